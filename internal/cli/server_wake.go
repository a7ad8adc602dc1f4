package cli

import "github.com/lanscout/lanscout/web"

// wakeConfig is a section of the server configuration (scaffold: filled in by its owner).
type wakeConfig struct{}

func (c *wakeConfig) validate() error { return nil }

func (c *wakeConfig) apply(o *web.Options, d serverDeps) error { return nil }

// satellitesConfig is a section of the server configuration (scaffold: filled in by its owner).
type satellitesConfig struct{}

func (c *satellitesConfig) validate() error { return nil }

func (c *satellitesConfig) apply(o *web.Options, d serverDeps) error { return nil }
