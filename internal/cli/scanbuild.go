package cli

import (
	"log/slog"
	"time"

	"github.com/lanscout/lanscout/snmp"
	"github.com/lanscout/lanscout/typing"
)

// The classifier and the SNMP prober are built here for both `lanscout
// scan` and the server's scans, so that a device is typed the same way
// whichever of them found it.

// newClassifier returns the classifier with the built-in rules and, when
// rulesPath is set, the admin's rules, which win.
func newClassifier(rulesPath string, logger *slog.Logger) (*typing.Classifier, error) {
	opts := typing.Options{Logger: logger}
	if rulesPath != "" {
		rules, err := typing.LoadRules(rulesPath)
		if err != nil {
			return nil, err
		}
		opts.AdminRules = rules
	}
	return typing.New(opts)
}

// proberSettings are the SNMP knobs a scan exposes.
type proberSettings struct {
	Credentials []snmp.Credential // none: defaultCredentials
	Port        uint16
	Timeout     time.Duration
	Retries     int // as on the command line: 0 means none
	Memory      *snmp.MemoryFile
	Logger      *slog.Logger
}

// newProber returns the prober that asks every responder what it is.
func newProber(s proberSettings) (*snmp.Prober, error) {
	creds := s.Credentials
	if len(creds) == 0 {
		creds = defaultCredentials()
	}
	opts := snmp.ProberOptions{
		Credentials: creds,
		Port:        s.Port,
		Timeout:     s.Timeout,
		Retries:     zeroMeansNone(s.Retries),
		Plan:        snmp.DefaultPlan(),
		Logger:      s.Logger,
	}
	// A nil *MemoryFile in the interface would not read as "no memory".
	if s.Memory != nil {
		opts.Memory = s.Memory
	}
	return snmp.NewProber(opts)
}
