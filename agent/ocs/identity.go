package ocs

import (
	"fmt"
	"strings"
	"time"
)

// deviceIDTime is the suffix every agent appends to its host name when it
// makes its DEVICEID on first run.
const deviceIDTime = "2006-01-02-15-04-05"

// MaxDeviceID caps a DEVICEID's length (OCS keeps 255 characters).
const MaxDeviceID = 255

// ParseDeviceID checks a DEVICEID the way OCS servers do,
// hostname-YYYY-MM-DD-HH-MM-SS, and returns its host name and time.
func ParseDeviceID(id string) (host string, made time.Time, err error) {
	if len(id) > MaxDeviceID {
		return "", time.Time{}, fmt.Errorf("DEVICEID is %d bytes long, at most %d", len(id), MaxDeviceID)
	}
	if len(id) < len(deviceIDTime)+2 || id[len(id)-len(deviceIDTime)-1] != '-' {
		return "", time.Time{}, fmt.Errorf("DEVICEID %q is not hostname-YYYY-MM-DD-HH-MM-SS", id)
	}
	host, stamp := id[:len(id)-len(deviceIDTime)-1], id[len(id)-len(deviceIDTime):]
	made, err = time.Parse(deviceIDTime, stamp)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("DEVICEID %q: %q is not a date and time YYYY-MM-DD-HH-MM-SS", id, stamp)
	}
	for _, r := range host {
		// Host names from every OS the agents run on, but nothing that
		// would be a control character or space in logs and pages.
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '&' {
			return "", time.Time{}, fmt.Errorf("DEVICEID %q: host name has the character %q", id, r)
		}
	}
	return host, made, nil
}

// AgentFamily is one kind of OCS agent, by the name in its User-Agent.
type AgentFamily string

// The families OCS servers accept (Apache::Ocsinventory::Server::Useragent).
const (
	UnixAgent          AgentFamily = "OCS-NG_unified_unix_agent"
	WindowsAgent       AgentFamily = "OCS-NG_WINDOWS_AGENT"
	WindowsClient      AgentFamily = "OCS-NG_windows_client" // 4032-4062, before 2.0
	WindowsMobileAgent AgentFamily = "OCS-NG_windows_mobile_agent"
	IOSAgent           AgentFamily = "OCS-NG_iOS_agent"
	AndroidAgent       AgentFamily = "OCS-NG_Android_agent"
)

var families = []AgentFamily{UnixAgent, WindowsAgent, WindowsClient, WindowsMobileAgent, IOSAgent, AndroidAgent}

// UserAgent is a parsed agent User-Agent, NAME_vVERSION.
type UserAgent struct {
	Family  AgentFamily
	Version string
}

// ParseUserAgent splits a User-Agent into a known family and its version,
// or says why it is not an OCS agent's. Like OCS servers, the name must be
// one of the families exactly.
func ParseUserAgent(ua string) (UserAgent, error) {
	i := strings.LastIndex(ua, "_v")
	if i <= 0 || i+2 == len(ua) {
		return UserAgent{}, fmt.Errorf("User-Agent %q is not NAME_vVERSION", ua)
	}
	name, version := ua[:i], ua[i+2:]
	for _, f := range families {
		if string(f) == name {
			if !validVersion(version) {
				return UserAgent{}, fmt.Errorf("User-Agent %q: version %q", ua, version)
			}
			return UserAgent{Family: f, Version: version}, nil
		}
	}
	return UserAgent{}, fmt.Errorf("User-Agent %q is no known OCS agent", ua)
}

func validVersion(v string) bool {
	if len(v) > 32 || v[0] < '0' || v[0] > '9' {
		return false
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
