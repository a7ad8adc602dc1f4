package cli

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/lanscout/lanscout/agent/ocs"
	"github.com/lanscout/lanscout/web"
)

// ocsConfig is the `ocs:` section: the endpoint existing OCS Inventory
// agents report to. It is served by the same HTTPS server as everything
// else; there is deliberately no plain-HTTP listener (inventories and
// basic-auth passwords would cross the network in clear): the Unix agent
// trusts lanscout's certificate with --ca, the Windows agent with its
// cacert.pem.
//
//	ocs:
//	  enabled: true
//	  path: /ocsinventory        # where agents POST
//	  realm: OCS Inventory       # basic-auth realm; agents need the same --realm
//	  users:                     # none: no authentication
//	    - name: agent
//	      bcrypt: "$2a$10$..."   # or password: "..." (compared in constant time)
//	  prolog_freq: 24            # hours between agent contacts
//	  ipdiscover_latency: 100    # ms between an elected agent's probes
//	  max_body: 1048576          # compressed bytes (at most the server's body limit, 1 MiB)
//	  max_xml: 33554432          # decoded bytes
//	  max_ratio: 100             # decoded/compressed beyond 1 MiB: a zip bomb is refused
type ocsConfig struct {
	Enabled           bool            `yaml:"enabled"`
	Path              string          `yaml:"path"`
	Realm             string          `yaml:"realm"`
	Users             []ocsUserConfig `yaml:"users"`
	PrologFreq        int             `yaml:"prolog_freq"`
	IPDiscoverLatency int             `yaml:"ipdiscover_latency"`
	MaxBody           int64           `yaml:"max_body"`
	MaxXML            int64           `yaml:"max_xml"`
	MaxRatio          int64           `yaml:"max_ratio"`
}

type ocsUserConfig struct {
	Name     string `yaml:"name"`
	Bcrypt   string `yaml:"bcrypt"`
	Password string `yaml:"password"`
}

func (c *ocsConfig) validate() error {
	if c.Path != "" && (!strings.HasPrefix(c.Path, "/") || strings.HasPrefix(c.Path, "/api/") || strings.ContainsAny(c.Path, ":*?# ")) {
		return fmt.Errorf("ocs.path %q: want an absolute path outside /api/, such as /ocsinventory", c.Path)
	}
	if strings.ContainsAny(c.Realm, "\"\r\n") {
		return fmt.Errorf("ocs.realm %q: no quotes or line breaks", c.Realm)
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		switch {
		case u.Name == "" || strings.Contains(u.Name, ":"):
			return fmt.Errorf("ocs.users[%d]: a name without ':' is required", i)
		case seen[u.Name]:
			return fmt.Errorf("ocs.users: %q appears twice", u.Name)
		case (u.Bcrypt == "") == (u.Password == ""):
			return fmt.Errorf("ocs.users %q: give exactly one of bcrypt and password", u.Name)
		case u.Bcrypt != "":
			if _, err := bcrypt.Cost([]byte(u.Bcrypt)); err != nil {
				return fmt.Errorf("ocs.users %q: bcrypt: %v (make one with: htpasswd -nbB NAME PASSWORD)", u.Name, err)
			}
		case len(u.Password) < 8:
			return fmt.Errorf("ocs.users %q: password shorter than 8 characters", u.Name)
		}
		seen[u.Name] = true
	}
	if c.PrologFreq < 0 || c.PrologFreq > 24*30 {
		return fmt.Errorf("ocs.prolog_freq %d: want 1-720 hours (0 for the default 24)", c.PrologFreq)
	}
	if c.IPDiscoverLatency < 0 || c.IPDiscoverLatency > 10000 {
		return fmt.Errorf("ocs.ipdiscover_latency %d: want 1-10000 ms (0 for the default 100)", c.IPDiscoverLatency)
	}
	if c.MaxBody < 0 || c.MaxXML < 0 || c.MaxRatio < 0 {
		return errors.New("ocs: max_body, max_xml and max_ratio cannot be negative")
	}
	if c.MaxRatio != 0 && c.MaxRatio < 10 {
		return fmt.Errorf("ocs.max_ratio %d: real inventories compress 10-30 times; want at least 10", c.MaxRatio)
	}
	return nil
}

func (c *ocsConfig) apply(o *web.Options, d serverDeps) error {
	o.OCS = web.OCSOptions{
		Enabled:           c.Enabled,
		Path:              c.Path,
		Realm:             c.Realm,
		PrologFreq:        c.PrologFreq,
		IPDiscoverLatency: c.IPDiscoverLatency,
		Limits:            ocs.Limits{MaxBody: c.MaxBody, MaxXML: c.MaxXML, MaxRatio: c.MaxRatio},
	}
	for _, u := range c.Users {
		o.OCS.Users = append(o.OCS.Users, web.OCSUser{Name: u.Name, BcryptHash: u.Bcrypt, Password: u.Password})
	}
	if c.Enabled && len(c.Users) == 0 && d.logger != nil {
		d.logger.Warn("ocs: the OCS agent endpoint takes inventories without authentication; set ocs.users to require it")
	}
	return nil
}
