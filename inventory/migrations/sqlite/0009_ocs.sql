-- Reserved for ocs; filled in before it lands.
SELECT 1;
