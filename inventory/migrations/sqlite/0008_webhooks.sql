-- Reserved for webhooks; filled in before it lands.
SELECT 1;
