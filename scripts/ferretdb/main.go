// Command ferretdb runs the embeddable FerretDB v1 (github.com/FerretDB/FerretDB/ferretdb)
// as a local MongoDB-compatible server for development and tests.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// builds a binary that panics at start: build/version/version.txt is generated
// and not part of the published module. The embeddable package does not need it.
//
// Telemetry is always disabled by the embeddable package.
//
// Build and start it with scripts/ferretdb/build.sh and scripts/ferretdb/start.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "", "SQLite directory URI for the sqlite handler, e.g. file:/abs/dir/ (directory must exist)")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler, e.g. postgres://user:pass@127.0.0.1:5432/ferretdb")
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP listen address host:port (port 0 picks a free port)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn or error")
	flag.Parse()

	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("invalid --log-level %q: %w", *logLevel, err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	conf := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:   logger,
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		if *sqliteURL == "" {
			return errors.New("--sqlite-url is required for --handler=sqlite (e.g. file:/abs/dir/)")
		}
		if !strings.HasSuffix(*sqliteURL, "/") {
			return fmt.Errorf("--sqlite-url must end with '/', got %q", *sqliteURL)
		}
		conf.SQLiteURL = *sqliteURL
	case "postgresql":
		if *postgresqlURL == "" {
			return errors.New("--postgresql-url is required for --handler=postgresql")
		}
		conf.PostgreSQLURL = *postgresqlURL
	default:
		return fmt.Errorf("unknown --handler %q (want sqlite or postgresql)", *handler)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(conf)
	if err != nil {
		return err
	}

	// ferretdb.New has already bound the listeners, so the address is known here.
	fmt.Printf("ferretdb listening on %s (handler %s)\n", f.MongoDBURI(), *handler)

	if err = f.Run(ctx); err != nil {
		return err
	}

	fmt.Println("ferretdb stopped")

	return nil
}
