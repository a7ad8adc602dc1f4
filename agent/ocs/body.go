package ocs

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// Encoding is how a body is wrapped on the wire.
type Encoding int

// The encodings agents use. Zlib is what every OCS agent sends; gzip is
// what the Unix agent falls back to without Compress::Zlib; plain XML is
// what it sends with neither.
const (
	Plain Encoding = iota
	Zlib
	Gzip
)

func (e Encoding) String() string {
	switch e {
	case Zlib:
		return "zlib"
	case Gzip:
		return "gzip"
	}
	return "plain"
}

// Errors DecodeBody returns; they are wrapped with what was found.
var (
	// ErrTooLarge: the body, or what it decodes to, is over the limits.
	ErrTooLarge = errors.New("body too large")
	// ErrBomb: the body inflates far more than any inventory does.
	ErrBomb = errors.New("compressed body inflates too much")
	// ErrMalformed: not a zlib or gzip stream nor XML, or a broken one.
	ErrMalformed = errors.New("malformed body")
)

// Limits bound what DecodeBody accepts. Zero fields take the defaults.
type Limits struct {
	// MaxBody caps the bytes read off the wire. Default 4 MiB: a full
	// Windows inventory with thousands of programs compresses to a few
	// hundred KiB.
	MaxBody int64
	// MaxXML caps the decoded XML. Default 32 MiB.
	MaxXML int64
	// MaxRatio caps decoded/compressed size once the decoded size is over
	// RatioFloor. Default 100: real inventories compress 10-30 times; a
	// zip bomb compresses about 1,000 times.
	MaxRatio int64
	// RatioFloor is the decoded size under which the ratio is not checked
	// (tiny bodies such as a prolog compress oddly). Default 1 MiB.
	RatioFloor int64
}

// The default limits.
const (
	DefaultMaxBody    = 4 << 20
	DefaultMaxXML     = 32 << 20
	DefaultMaxRatio   = 100
	DefaultRatioFloor = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.MaxXML <= 0 {
		l.MaxXML = DefaultMaxXML
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = DefaultRatioFloor
	}
	return l
}

// DecodeBody reads a request body and returns its XML and how it was
// encoded. The encoding is sniffed from the bytes, never taken from a
// header: agents send application/x-compress whatever they send.
//
// Decompression stops as soon as the output passes the limits, so a zip
// bomb costs at most MaxXML bytes of memory, never its full size.
func DecodeBody(r io.Reader, lim Limits) ([]byte, Encoding, error) {
	lim = lim.withDefaults()
	raw, err := io.ReadAll(io.LimitReader(r, lim.MaxBody+1))
	if err != nil {
		// A limit the caller put on r (http.MaxBytesReader) fails the
		// read itself; the caller can still tell with errors.As.
		return nil, Plain, fmt.Errorf("read body: %w", err)
	}
	if int64(len(raw)) > lim.MaxBody {
		return nil, Plain, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBody)
	}
	return DecodeBytes(raw, lim)
}

// DecodeBytes is DecodeBody for a body already in memory.
func DecodeBytes(raw []byte, lim Limits) ([]byte, Encoding, error) {
	lim = lim.withDefaults()
	if int64(len(raw)) > lim.MaxBody {
		return nil, Plain, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), lim.MaxBody)
	}
	enc, err := sniff(raw)
	if err != nil {
		return nil, Plain, err
	}
	if enc == Plain {
		if int64(len(raw)) > lim.MaxXML {
			return nil, Plain, fmt.Errorf("%w: %d bytes of XML, at most %d", ErrTooLarge, len(raw), lim.MaxXML)
		}
		return raw, Plain, nil
	}
	// A bytes.Reader is an io.ByteReader, so the decompressors read from
	// it directly, without a buffer: what it still holds at the end is
	// what follows the stream.
	br := bytes.NewReader(raw)
	var zr io.ReadCloser
	if enc == Zlib {
		zr, err = zlib.NewReader(br)
	} else {
		var gr *gzip.Reader
		gr, err = gzip.NewReader(br)
		if err == nil {
			// One member: concatenated members are not something agents
			// send, and would hide data after the first.
			gr.Multistream(false)
			zr = gr
		}
	}
	if err != nil {
		return nil, enc, fmt.Errorf("%w: %s header: %v", ErrMalformed, enc, err)
	}
	defer zr.Close()
	// The most this body may inflate to; one byte more proves it is over.
	allowed := min(lim.MaxXML, max(lim.RatioFloor, lim.MaxRatio*int64(len(raw))))
	out, err := io.ReadAll(io.LimitReader(zr, allowed+1))
	if err != nil {
		return nil, enc, fmt.Errorf("%w: %s stream: %v", ErrMalformed, enc, err)
	}
	if int64(len(out)) > allowed {
		if allowed == lim.MaxXML {
			return nil, enc, fmt.Errorf("%w: %s body inflates past %d bytes", ErrTooLarge, enc, lim.MaxXML)
		}
		return nil, enc, fmt.Errorf("%w: %d %s bytes inflate past %d (more than %d times)",
			ErrBomb, len(raw), enc, allowed, lim.MaxRatio)
	}
	// A truncated stream reads as an error above; bytes after a complete
	// one are refused too, rather than silently dropped.
	if br.Len() != 0 {
		return nil, enc, fmt.Errorf("%w: %d bytes after the end of the %s stream", ErrMalformed, br.Len(), enc)
	}
	return out, enc, nil
}

// sniff tells the encoding from the first bytes.
func sniff(b []byte) (Encoding, error) {
	switch {
	case len(b) == 0:
		return Plain, fmt.Errorf("%w: empty body", ErrMalformed)
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return Gzip, nil
	case len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0:
		// RFC 1950: CM 8 (deflate), CINFO at most 7, and the header
		// checksum. '<' (0x3c) can never pass the CM test.
		return Zlib, nil
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && t[0] == '<' {
		return Plain, nil
	}
	return Plain, fmt.Errorf("%w: neither zlib, gzip nor XML (starts % x)", ErrMalformed, b[:min(len(b), 4)])
}

// EncodeBody wraps a reply the way the request came: agents read the
// reply with the same decoder they wrote the request with.
func EncodeBody(xml []byte, enc Encoding) ([]byte, error) {
	var buf bytes.Buffer
	switch enc {
	case Plain:
		return xml, nil
	case Zlib:
		w := zlib.NewWriter(&buf)
		if _, err := w.Write(xml); err != nil {
			return nil, fmt.Errorf("zlib reply: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("zlib reply: %w", err)
		}
	case Gzip:
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(xml); err != nil {
			return nil, fmt.Errorf("gzip reply: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("gzip reply: %w", err)
		}
	default:
		return nil, fmt.Errorf("encode reply: unknown encoding %d", enc)
	}
	return buf.Bytes(), nil
}
