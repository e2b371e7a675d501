package main

// FerretDB 1.24 runs an update as "query the documents" and then, in a separate
// transaction, "UPDATE ... WHERE _id = ?" with no comparison (internal/handler/msg_update.go):
// two concurrent writes to one document both read the old value and the second write
// wins, so concurrent $inc, $push or version-checked updates lose work (we measured 62
// of 200 concurrent $inc kept). MongoDB makes every single-document write atomic; to get
// the same here, this proxy sits in front of FerretDB and lets one write command through
// at a time. Reads are passed through concurrently.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
)

const (
	opMsg          = 2013
	maxMessageSize = 48 * 1024 * 1024
	moreToCome     = 1 << 1
)

// Commands that change data or metadata; names as drivers send them (first key of OP_MSG body).
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "createIndexes": true, "drop": true, "dropDatabase": true,
	"dropIndexes": true, "renameCollection": true, "collMod": true,
}

type writeSerializer struct {
	backend string // FerretDB's Unix socket
	writes  sync.Mutex
}

func (s *writeSerializer) serve(ln net.Listener) error {
	for {
		client, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go s.handle(client)
	}
}

func (s *writeSerializer) handle(client net.Conn) {
	defer client.Close()
	backend, err := net.Dial("unix", s.backend)
	if err != nil {
		log.Printf("ferretdb-sqlite: cannot reach the backend: %v", err)
		return
	}
	defer backend.Close()

	for {
		request, err := readMessage(client)
		if err != nil {
			return // the client went away
		}
		if err := s.exchange(request, client, backend); err != nil {
			return
		}
	}
}

// exchange forwards one request and relays its replies, holding the write lock for writes.
func (s *writeSerializer) exchange(request []byte, client, backend net.Conn) error {
	if isWrite(request) {
		s.writes.Lock()
		defer s.writes.Unlock()
	}
	if _, err := backend.Write(request); err != nil {
		return err
	}
	if flags(request)&moreToCome != 0 {
		return nil // an unacknowledged request has no reply
	}
	for {
		reply, err := readMessage(backend)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if flags(reply)&moreToCome == 0 {
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	size := int(int32(binary.LittleEndian.Uint32(header[:])))
	if size < 16 || size > maxMessageSize {
		return nil, fmt.Errorf("bad message size %d", size)
	}
	message := make([]byte, size)
	copy(message, header[:])
	if _, err := io.ReadFull(r, message[4:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) int32 { return int32(binary.LittleEndian.Uint32(message[12:16])) }

func flags(message []byte) uint32 {
	if opCode(message) != opMsg || len(message) < 20 {
		return 0
	}
	return binary.LittleEndian.Uint32(message[16:20])
}

// isWrite reports whether an OP_MSG's body names a write command.
func isWrite(message []byte) bool {
	if opCode(message) != opMsg {
		return false
	}
	for at := 20; at < len(message); {
		kind := message[at]
		at++
		if at+4 > len(message) {
			return false
		}
		size := int(int32(binary.LittleEndian.Uint32(message[at : at+4])))
		if size < 5 || at+size > len(message) {
			return false
		}
		if kind == 0 {
			return writeCommands[firstKey(message[at:at+size])]
		}
		at += size // kind 1: a document sequence, its size covers identifier and documents
	}
	return false
}

// firstKey returns the name of a BSON document's first element.
func firstKey(document []byte) string {
	if len(document) < 6 {
		return ""
	}
	name := document[5:] // skip int32 size and the element type byte
	for i, b := range name {
		if b == 0 {
			return string(name[:i])
		}
	}
	return ""
}
