package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lanscout/lanscout/agent/protocol"
)

// uploader sends a task's result batches in order, each until the server
// has it: retried with backoff on network and server errors (the server
// acknowledges a batch it already has as a duplicate, so retrying is
// safe), split when the server finds it too large.
type uploader struct {
	a    *Agent
	ctx  context.Context // the agent's, not the task's: a result goes up even after the task's deadline
	task string
	log  *slog.Logger
	next int // the next batch number
}

// uploadPatience bounds how long one batch is retried; a result must not
// be lost to a server restart, but an agent must not retry for ever.
const uploadPatience = 15 * time.Minute

// budget is what one batch may weigh as sent, with room for headers.
const budget = protocol.MaxBodyBytes - 64<<10

var errTooLarge = errors.New("batch too large")

func (u *uploader) send(_ context.Context, r protocol.TaskResult) error {
	ctx := u.ctx
	r.TaskID, r.Batch = u.task, u.next
	if r.Finished.IsZero() {
		r.Finished = time.Now().UTC()
	}
	if b, err := protocol.Encode(r); err != nil {
		return err
	} else if len(b) > budget {
		return errTooLarge
	}
	bo := u.a.opts.Backoff
	deadline := time.Now().Add(uploadPatience)
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		reply, err := u.a.client.Upload(rctx, r)
		cancel()
		switch code := statusCode(err); {
		case err == nil:
			if reply.Duplicate {
				u.log.Info("batch was already stored", "batch", r.Batch)
			}
			u.next++
			return nil
		case code == http.StatusRequestEntityTooLarge:
			return errTooLarge
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return refused(err)
		case code >= 400 && code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout:
			return fmt.Errorf("batch %d refused: %w", r.Batch, err)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("batch %d not uploaded: %w", r.Batch, err)
		}
		d := bo.Next()
		u.log.Warn("upload failed; retrying", "batch", r.Batch, "err", err, "in", d.Round(time.Millisecond))
		if !sleep(ctx, d) {
			return fmt.Errorf("batch %d not uploaded: %w", r.Batch, ctx.Err())
		}
	}
}

// batch uploads devices found so far as a non-final batch.
func (u *uploader) batch(ctx context.Context, devs []protocol.Device) error {
	err := u.send(ctx, protocol.TaskResult{Scan: &protocol.ScanResult{Devices: devs}})
	if errors.Is(err, errTooLarge) && len(devs) > 1 {
		h := len(devs) / 2
		if err := u.batch(ctx, devs[:h]); err != nil {
			return err
		}
		return u.batch(ctx, devs[h:])
	}
	return err
}

// final sends a result without devices as the last batch.
func (u *uploader) final(ctx context.Context, r protocol.TaskResult) {
	r.Final = true
	if err := u.send(ctx, r); err != nil {
		u.log.Error("final result not uploaded", "err", err)
	}
}

// finalDevices sends a scan's remaining devices, the last of them with
// the summary and the error, as the final batch.
func (u *uploader) finalDevices(ctx context.Context, r protocol.TaskResult) {
	devs := r.Scan.Devices
	for len(devs) > 0 {
		n := min(len(devs), u.a.opts.BatchDevices)
		last := n == len(devs)
		if !last {
			if err := u.batch(ctx, devs[:n]); err != nil {
				u.failLate(ctx, r, err)
				return
			}
			devs = devs[n:]
			continue
		}
		fr := r
		fr.Scan = &protocol.ScanResult{Devices: devs, Summary: r.Scan.Summary}
		fr.Final = true
		err := u.send(ctx, fr)
		if errors.Is(err, errTooLarge) && len(devs) > 1 {
			h := len(devs) / 2
			if err := u.batch(ctx, devs[:h]); err != nil {
				u.failLate(ctx, r, err)
				return
			}
			devs = devs[h:]
			continue
		}
		if err != nil {
			u.failLate(ctx, r, err)
		}
		return
	}
	r.Final = true
	r.Scan = &protocol.ScanResult{Devices: []protocol.Device{}, Summary: r.Scan.Summary}
	if err := u.send(ctx, r); err != nil {
		u.log.Error("final result not uploaded", "err", err)
	}
}

// failLate ends a task whose devices could not all be uploaded, saying
// so, so that the server does not wait for the deadline.
func (u *uploader) failLate(ctx context.Context, r protocol.TaskResult, err error) {
	u.log.Error("devices not uploaded", "err", err)
	if errors.Is(err, ErrRefused) {
		return
	}
	u.final(ctx, protocol.TaskResult{Error: "uploading devices: " + err.Error()})
}

// finalHeard sends a listen's MACs in batches, the last one final.
func (u *uploader) finalHeard(ctx context.Context, r protocol.TaskResult) {
	heard := r.Listen.Heard
	for len(heard) > protocol.MaxBatchDevices/2 {
		n := protocol.MaxBatchDevices / 2
		if err := u.send(ctx, protocol.TaskResult{Listen: &protocol.ListenResult{Heard: heard[:n]}}); err != nil {
			u.log.Error("heard MACs not uploaded", "err", err)
			u.final(ctx, protocol.TaskResult{Error: "uploading heard MACs: " + err.Error()})
			return
		}
		heard = heard[n:]
	}
	r.Listen = &protocol.ListenResult{Heard: heard}
	u.final(ctx, r)
}
