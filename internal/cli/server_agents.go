package cli

import "github.com/lanscout/lanscout/web"

// agentsConfig is a section of the server configuration (scaffold: filled in by its owner).
type agentsConfig struct{}

func (c *agentsConfig) validate() error { return nil }

func (c *agentsConfig) apply(o *web.Options, d serverDeps) error { return nil }
