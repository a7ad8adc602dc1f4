-- Reserved for election; filled in before it lands.
SELECT 1;
