-- Reserved for admin; filled in before it lands.
SELECT 1;
