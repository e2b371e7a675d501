// Command ferretdb-sqlite runs FerretDB v1 with its SQLite backend on one TCP address.
//
// FerretDB's own `go install` build panics at start (its generated version file is not
// part of the module), so the project embeds the library instead, as upstream supports.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory holding the SQLite databases (created if missing)")
	flag.Parse()

	if *dir == "" {
		log.Fatal("ferretdb-sqlite: -dir is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}
	// The SQLite URL must name a directory and end with a slash.
	url := "file:" + strings.TrimSuffix(abs, "/") + "/"

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: url,
	})
	if err != nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb-sqlite: listening on %s, data in %s", *listen, abs)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}
}
