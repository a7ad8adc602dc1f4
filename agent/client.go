package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
)

// StatusError is an answer of the server other than success, with the
// message it gave.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// Permanent reports whether retrying the same request cannot help: the
// agent was refused (revoked, unknown key or token) or sent something the
// server will never take.
func (e *StatusError) Permanent() bool {
	return e.Code >= 400 && e.Code < 500 && e.Code != http.StatusRequestTimeout && e.Code != http.StatusTooManyRequests
}

// statusCode returns the HTTP status of err, 0 when it is not a
// StatusError (a network failure).
func statusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// Client speaks the agent protocol to one server over verified HTTPS.
type Client struct {
	base      *url.URL
	http      *http.Client
	token     string
	userAgent string
}

// NewClient returns a client of server, an https:// URL.
func NewClient(server string, tlsOpts TLSOptions, version string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(server), "/"))
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", server, err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want https://HOST[:PORT] (agents speak to the server over verified HTTPS only)", server)
	}
	cfg, err := tlsOpts.TLSConfig()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: protocol.MaxWait + 30*time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &Client{base: u, http: &http.Client{Transport: tr}, userAgent: "lanscout-agent/" + version}, nil
}

// SetToken sets the agent token sent from now on.
func (c *Client) SetToken(tok string) { c.token = tok }

// CloseIdle closes idle connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// do sends body (gzip-compressed JSON when not nil) and decodes a JSON
// answer into out when given.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := protocol.Encode(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
	}
	if c.token != "" {
		req.Header.Set("Authorization", protocol.AuthScheme+" "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, protocol.MaxDecodedBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e protocol.Error
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
			if len(e.Error) > 200 {
				e.Error = e.Error[:200]
			}
		}
		return fmt.Errorf("%s %s: %w", method, path, &StatusError{Code: resp.StatusCode, Message: e.Error})
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// Enroll trades an enrollment key for a token.
func (c *Client) Enroll(ctx context.Context, req protocol.EnrollRequest) (protocol.EnrollReply, error) {
	var out protocol.EnrollReply
	err := c.do(ctx, http.MethodPost, protocol.PathEnroll, req, &out)
	if err == nil && out.Token == "" {
		err = errors.New("enroll: the server sent no token")
	}
	return out, err
}

// Hello makes one contact.
func (c *Client) Hello(ctx context.Context, h protocol.Hello) (protocol.HelloReply, error) {
	var out protocol.HelloReply
	return out, c.do(ctx, http.MethodPost, protocol.PathHello, h, &out)
}

// SendInventory uploads the machine's inventory.
func (c *Client) SendInventory(ctx context.Context, inv protocol.Inventory) error {
	return c.do(ctx, http.MethodPut, protocol.PathInventory, inv, nil)
}

// Tasks fetches pending tasks, waiting up to wait for one to be queued.
func (c *Client) Tasks(ctx context.Context, wait time.Duration) ([]protocol.Task, error) {
	var out protocol.TaskList
	path := protocol.PathTasks
	if wait > 0 {
		path += "?wait=" + url.QueryEscape(wait.Round(time.Millisecond).String())
	}
	return out.Tasks, c.do(ctx, http.MethodGet, path, nil, &out)
}

// Upload sends one batch of a task's result.
func (c *Client) Upload(ctx context.Context, r protocol.TaskResult) (protocol.ResultReply, error) {
	var out protocol.ResultReply
	return out, c.do(ctx, http.MethodPost, protocol.ResultPath(r.TaskID), r, &out)
}
