-- Reserved for wake; filled in before it lands.
SELECT 1;
