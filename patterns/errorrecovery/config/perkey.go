package config

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/statecraft/statecraft/patterns/errorrecovery"
)

// perKeyFile is the per_key section: errorrecovery.PerKeyConfig, its
// registry's bounds (perkey.Config) inline. The key function cannot come
// from a file: key names "host" (the key an httptransport.Transport gives,
// the request's host) or a function registered with RegisterKey.
type perKeyFile struct {
	Key           *string `yaml:"key"`
	MaxKeys       *int    `yaml:"max_keys"`
	IdleTimeout   *string `yaml:"idle_timeout"`
	SweepInterval *string `yaml:"sweep_interval"`
}

// hostKey is the built-in name of per_key.key.
const hostKey = "host"

// keyFuncs are the key functions registered with RegisterKey, by name.
var keyFuncs = struct {
	sync.RWMutex
	m map[string]func(context.Context) string
}{m: map[string]func(context.Context) string{}}

// RegisterKey makes name usable as a config file's per_key.key: the key
// function fn (errorrecovery.PerKeyConfig.Key) gives each call its key,
// and the workflow's diagram notes name as what a key is ("one per
// tenant"). The name "host" is built in: the key that
// errorrecovery.WithKey puts in the context, which an
// httptransport.Transport sets to the request's host. Names are matched
// exactly. It panics if name is empty, "host" or already registered, or
// if fn is nil, as RegisterErrorClass does.
func RegisterKey(name string, fn func(ctx context.Context) string) {
	switch {
	case name == "":
		panic("config: RegisterKey with an empty name")
	case name == hostKey:
		panic("config: RegisterKey of host, which is built in")
	case fn == nil:
		panic("config: RegisterKey of " + name + " with a nil function")
	}
	keyFuncs.Lock()
	defer keyFuncs.Unlock()
	if _, dup := keyFuncs.m[name]; dup {
		panic("config: RegisterKey called twice for " + name)
	}
	keyFuncs.m[name] = fn
}

// keyNames returns the names per_key.key accepts, "host" first.
func keyNames() []string {
	keyFuncs.RLock()
	defer keyFuncs.RUnlock()
	names := make([]string, 0, len(keyFuncs.m))
	for name := range keyFuncs.m {
		names = append(names, name)
	}
	slices.Sort(names)
	return append([]string{hostKey}, names...)
}

// perKey reads the per_key section.
func perKey(p *parsing, f *perKeyFile) *errorrecovery.PerKeyConfig {
	var c errorrecovery.PerKeyConfig
	if f == nil {
		return &c
	}
	if f.Key != nil {
		name := *f.Key
		keyFuncs.RLock()
		fn, ok := keyFuncs.m[name]
		keyFuncs.RUnlock()
		switch {
		case name == hostKey:
			c.KeyName = hostKey // Key nil: the key in the context
		case ok:
			c.Key, c.KeyName = fn, name
		default:
			p.configErr(&errorrecovery.ConfigError{Config: "PerKeyConfig", Field: "Key", Value: fmt.Sprintf("%q", name),
				Reason: "must be host or a name registered with RegisterKey (known: " + strings.Join(keyNames(), ", ") + ")"})
		}
	}
	set(&c.Registry.MaxKeys, f.MaxKeys)
	p.duration("per_key.idle_timeout", f.IdleTimeout, &c.Registry.IdleTimeout)
	p.duration("per_key.sweep_interval", f.SweepInterval, &c.Registry.SweepInterval)
	p.validate(c.Registry.Validate())
	return &c
}
