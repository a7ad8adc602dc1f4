package cli

import "github.com/lanscout/lanscout/web"

// exportConfig is a section of the server configuration (scaffold: filled in by its owner).
type exportConfig struct{}

func (c *exportConfig) validate() error { return nil }

func (c *exportConfig) apply(o *web.Options, d serverDeps) error { return nil }

// webhooksConfig is a section of the server configuration (scaffold: filled in by its owner).
type webhooksConfig struct{}

func (c *webhooksConfig) validate() error { return nil }

func (c *webhooksConfig) apply(o *web.Options, d serverDeps) error { return nil }
