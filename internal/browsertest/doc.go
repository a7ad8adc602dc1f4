// Package browsertest drives the appliance's web UI in headless Chromium,
// as a person would: a real server (`lanscout server`, with its SQLite
// store, its TLS certificate and its own scan function) scanning real SNMP
// agents (snmpsim on loopback), and Debian's chromium driven over the
// DevTools protocol with chromedp. It holds only tests; it saves full-page
// screenshots of the main pages for reviewers (see README, "OpenAPI and
// the browser tests"). One test without a browser follows a real sweep
// through the live progress stream the pages draw.
//
// It must not know the server's internals: it talks HTTPS to it and reads
// pages like a browser does.
package browsertest
