package perkey

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by Acquire after Registry.Close.
var ErrClosed = errors.New("errorrecovery: per-key registry closed")

// errNilCreate is New's error for a nil create function.
var errNilCreate = errors.New("errorrecovery: perkey.New: nil create function")

// CreateError reports that the create function given to New failed for a
// key: Acquire kept nothing, and the key's next Acquire calls it again.
// It unwraps to the function's error, such as the *ConfigError of a
// breaker or bulkhead config.
type CreateError struct {
	// Key is the key whose machine could not be made.
	Key any
	// Err is the create function's error.
	Err error
}

// Error names the key and the function's error.
func (e *CreateError) Error() string {
	return fmt.Sprintf("errorrecovery: per-key machine for key %v: %v", e.Key, e.Err)
}

// Unwrap returns the create function's error.
func (e *CreateError) Unwrap() error { return e.Err }
