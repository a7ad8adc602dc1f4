-- An agent's enrollment scope is its own: the subnets of the key it
-- enrolled with, copied at enrollment, so that deleting the key does not
-- lift the limit (the key link is SET NULL on delete). Agents enrolled
-- before take their key's subnets now; those whose key is gone stay
-- unrestricted, as they were.
ALTER TABLE agent_tokens ADD COLUMN subnets TEXT NOT NULL DEFAULT '[]'; -- JSON list of CIDRs; empty: anywhere
UPDATE agent_tokens SET subnets = (SELECT k.subnets FROM enrollment_keys k WHERE k.id = agent_tokens.key_id)
	WHERE key_id IS NOT NULL;
