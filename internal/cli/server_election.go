package cli

import "github.com/lanscout/lanscout/web"

// electionConfig is a section of the server configuration (scaffold: filled in by its owner).
type electionConfig struct{}

func (c *electionConfig) validate() error { return nil }

func (c *electionConfig) apply(o *web.Options, d serverDeps) error { return nil }
