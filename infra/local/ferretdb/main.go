// Command ferretdb-sqlite runs FerretDB v1 with its SQLite backend on one TCP address.
//
// FerretDB's own `go install` build panics at start (its generated version file is not
// part of the module), so the project embeds the library instead, as upstream supports.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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

	// FerretDB listens on a private Unix socket; clients reach it through the write
	// serializer on the TCP address (see serialize.go for why).
	socket := filepath.Join(abs, "ferretdb.sock")
	_ = os.Remove(socket)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Handler:   "sqlite",
		SQLiteURL: url,
	})
	if err != nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	for i := 0; ; i++ {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if i == 200 {
			log.Fatalf("ferretdb-sqlite: FerretDB did not open %s", socket)
		}
		time.Sleep(25 * time.Millisecond)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	proxy := &writeSerializer{backend: socket}
	go func() {
		if err := proxy.serve(ln); err != nil {
			log.Fatalf("ferretdb-sqlite: %v", err)
		}
	}()

	log.Printf("ferretdb-sqlite: listening on %s, data in %s", *listen, abs)
	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb-sqlite: %v", err)
	}
}
