-- Reserved for agent_tasks; filled in before it lands.
SELECT 1;
