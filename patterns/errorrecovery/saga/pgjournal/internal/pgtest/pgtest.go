// Package pgtest provisions a throwaway PostgreSQL cluster for a test
// binary: Start finds initdb and pg_ctl (on PATH, else in
// /usr/lib/postgresql/<version>/bin), installing Debian's postgresql
// package when they are absent and the tests run as root; runs initdb into
// a new temporary directory; and starts the server with pg_ctl on a free
// port of 127.0.0.1, the only address it listens on and trusts. Stop stops
// it and removes the directory.
//
// initdb refuses to run as root, so when the tests run as root the
// cluster's commands run as the unprivileged postgres user (the one the
// package creates), and the directory is made over to it.
//
// The cluster is tuned for tests, not durability (fsync off), and gives
// each test a schema of its own (NewSchema), which is far cheaper than a
// database. A test binary that dies without stopping its cluster (a
// panic, a timeout) leaves the directory behind with its pid in it; the
// next Start stops and removes such leftovers.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Database is the database Start creates for the tests.
const Database = "statecraft"

// dirPrefix names the cluster directories, so that leftovers can be found.
const dirPrefix = "statecraft-pgtest-"

// Cluster is a running throwaway cluster.
type Cluster struct {
	// Port is the port the server listens on, on 127.0.0.1.
	Port int

	dir    string              // the temporary directory: data/, server.log, owner.pid
	bin    string              // the directory of initdb and pg_ctl
	cred   *syscall.Credential // the postgres user's, when running as root; else nil
	admin  *pgxpool.Pool       // connected to Database, for NewSchema
	schema atomic.Int64        // the last schema number NewSchema used
}

// Start provisions and starts a cluster, or says why it cannot. logf, if
// not nil, is told of slow steps (installing the package).
func Start(ctx context.Context, logf func(format string, args ...any)) (*Cluster, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := findBinaries(ctx, logf)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	base := tempBase()
	removeLeftovers(base, c)
	if c.dir, err = os.MkdirTemp(base, dirPrefix+"*"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(c.dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	if err := c.configure(data); err != nil {
		return nil, err
	}
	// Another process may take the free port before the server does: try
	// a few.
	for try := range 3 {
		if c.Port, err = freePort(); err != nil {
			return nil, err
		}
		var out []byte
		if out, err = c.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60",
			"-o", "-p "+strconv.Itoa(c.Port), "start"); err == nil {
			break
		}
		if try == 2 {
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
			return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
		}
	}
	if err := c.createDatabase(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// configure limits the server to TCP on 127.0.0.1 with trust, no Unix
// socket, and no durability.
func (c *Cluster) configure(data string) error {
	hba := "# pgtest: trust, over TCP on 127.0.0.1 only\nhost all all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return err
	}
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = conf.WriteString(`
# pgtest: a throwaway cluster for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
`)
	if cerr := conf.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *Cluster) createDatabase(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, "CREATE DATABASE "+Database)
	pool.Close()
	if err != nil {
		return fmt.Errorf("pgtest: create database: %w", err)
	}
	c.admin, err = pgxpool.New(ctx, c.ConnString(Database))
	return err
}

// ConnString returns the key=value connection string of database on the
// cluster, as the superuser postgres.
func (c *Cluster) ConnString(database string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable connect_timeout=10", c.Port, database)
}

// NewSchema creates an empty schema in Database and returns a connection
// string whose search_path is that schema, so that what a test creates
// does not meet what another creates.
func (c *Cluster) NewSchema(t testing.TB) string {
	t.Helper()
	name := "t" + strconv.FormatInt(c.schema.Add(1), 10)
	if _, err := c.admin.Exec(context.Background(), "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	return c.ConnString(Database) + " search_path=" + name
}

// Stop stops the server at once (pg_ctl's immediate mode: no shutdown
// checkpoint, since nothing is kept) and removes the cluster's directory.
func (c *Cluster) Stop() error {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.dir == "" {
		return nil
	}
	var err error
	if _, statErr := os.Stat(filepath.Join(c.dir, "data", "postmaster.pid")); statErr == nil {
		var out []byte
		if out, err = c.run(context.Background(), "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
			err = fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
		}
	}
	if rerr := os.RemoveAll(c.dir); err == nil {
		err = rerr
	}
	return err
}

// run runs one of the cluster's commands, as the postgres user when
// running as root, and returns its output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Dir = c.dir
	}
	return cmd.CombinedOutput()
}

// findBinaries returns the directory holding initdb and pg_ctl, installing
// Debian's postgresql package if they are nowhere and this is root.
func findBinaries(ctx context.Context, logf func(string, ...any)) (string, error) {
	if dir := lookBinaries(); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("pgtest: PostgreSQL's initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin, " +
			"and the tests are not running as root, so they cannot install them: " +
			"install Debian's postgresql package (sudo apt-get install postgresql) or put initdb and pg_ctl on PATH")
	}
	logf("pgtest: installing Debian's postgresql package")
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "postgresql")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := install()
	if err != nil {
		// The package lists may be missing or stale: update them once.
		if uout, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			return "", fmt.Errorf("pgtest: apt-get update: %w\n%s", uerr, uout)
		}
		out, err = install()
	}
	if err != nil {
		return "", fmt.Errorf("pgtest: apt-get install postgresql: %w\n%s", err, out)
	}
	if dir := lookBinaries(); dir != "" {
		return dir, nil
	}
	return "", errors.New("pgtest: installed Debian's postgresql package, but found no initdb and pg_ctl in /usr/lib/postgresql/*/bin")
}

// lookBinaries returns the directory of initdb, with pg_ctl beside it:
// initdb's on PATH (its link resolved), else the newest of
// /usr/lib/postgresql/<version>/bin; "" if none.
func lookBinaries() string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	dirs = append(dirs, found...)
	for _, dir := range dirs {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "pg_ctl")) {
			return dir
		}
	}
	return ""
}

// versionOf reads the major version out of /usr/lib/postgresql/<v>/bin.
func versionOf(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// postgresUser returns the credential of the postgres user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root, but there is no postgres user to run the cluster as "+
			"(Debian's postgresql package creates one): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// tempBase is the directory to make the cluster's in: the usual temporary
// directory if every directory above it lets others through (the postgres
// user must reach its data), else /tmp.
func tempBase() string {
	base, err := filepath.Abs(os.TempDir())
	if err != nil {
		return "/tmp"
	}
	dir := "/"
	for _, part := range strings.Split(base, string(filepath.Separator)) {
		dir = filepath.Join(dir, part)
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
	}
	return base
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeLeftovers stops and removes the clusters that test binaries now
// dead left in base.
func removeLeftovers(base string, c *Cluster) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its test binary is alive (or the file is not ours)
		}
		old := &Cluster{dir: dir, bin: c.bin, cred: c.cred}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		old.run(ctx, "pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop")
		cancel()
		os.RemoveAll(dir)
	}
}
