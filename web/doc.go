// Package web serves the appliance's UI and REST API. Only cmd imports it.
package web
