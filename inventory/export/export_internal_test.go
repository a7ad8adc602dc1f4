package export

// Hooks for the external tests of this package.
var (
	HostileHosts = hostileHosts
	TestOptions  = testOptions
)
