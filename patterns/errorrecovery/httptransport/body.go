package httptransport

import (
	"bytes"
	"io"
	"math"
	"net/http"
)

// maxDrain bounds what is read of a failed response's body before it is
// discarded or kept: error pages are small, and reading one to its end
// lets its connection be reused.
const maxDrain = 64 << 10

// readUpTo reads r until EOF or past n bytes, and reports whether it met
// EOF within n bytes.
func readUpTo(r io.Reader, n int64) (buf []byte, complete bool, err error) {
	if n == math.MaxInt64 {
		buf, err = io.ReadAll(r)
		return buf, err == nil, err
	}
	buf, err = io.ReadAll(io.LimitReader(r, n+1))
	return buf, err == nil && int64(len(buf)) <= n, err
}

// readCloser is a body reading from one reader and closing another.
type readCloser struct {
	io.Reader
	io.Closer
}

// prefixed returns body with buf, already read from it, put back in front.
func prefixed(buf []byte, body io.ReadCloser) io.ReadCloser {
	return readCloser{io.MultiReader(bytes.NewReader(buf), body), body}
}

// drain reads a failed response's body, up to maxDrain bytes, and reports
// whether it reached the end (or an error) and closed it. The bytes read
// stand in for the body: all of it (then the error, if reading failed)
// when it was closed, in front of the rest otherwise.
func drain(resp *http.Response) (closed bool) {
	buf, complete, err := readUpTo(resp.Body, maxDrain)
	switch {
	case err != nil:
		resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(buf), errReader{err}))
		return true
	case complete:
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(buf))
		return true
	}
	resp.Body = prefixed(buf, resp.Body)
	return false
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// withRelease returns body with release called after its Close. A body
// that can also be written (the connection of a 101 Switching Protocols
// response) keeps its Write.
func withRelease(body io.ReadCloser, release func()) io.ReadCloser {
	if rw, ok := body.(io.ReadWriteCloser); ok {
		return &releaseRWBody{releaseBody{body, release}, rw}
	}
	return &releaseBody{body, release}
}

type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

type releaseRWBody struct {
	releaseBody
	w io.Writer
}

func (b *releaseRWBody) Write(p []byte) (int, error) { return b.w.Write(p) }
