package cli

import "github.com/lanscout/lanscout/web"

// ocsConfig is a section of the server configuration (scaffold: filled in by its owner).
type ocsConfig struct{}

func (c *ocsConfig) validate() error { return nil }

func (c *ocsConfig) apply(o *web.Options, d serverDeps) error { return nil }
