package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/craton-co/craton/errs"
	"github.com/miekg/pkcs11"
	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside storage_path.
const FileName = "craton-hsm.db"

// lockWait is how long Open waits for another holder to release the store.
// Short: a store held by a live process stays held, and the caller wants a
// clear error, not a hang.
const lockWait = 100 * time.Millisecond

var (
	bucketMeta     = []byte("meta")
	bucketObjects  = []byte("objects")
	bucketGCM      = []byte("gcm")
	bucketMaterial = []byte("material")
	keyState       = []byte("state")
	keyVersion     = []byte("version")
	// formatVersion 2 added the material records (slot<N>/material); a
	// version-1 store is read as is and upgraded by the engine's migration
	// at the first login. Writing "2" at open keeps an older binary, which
	// would see key objects without their material, from opening the store.
	formatVersion = []byte("2")
	oldVersions   = []string{"1"}
)

// Store is an open store. It is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	dir    string
	path   string
	writes atomic.Uint64 // committed write transactions, for releaseMapped
}

// Open opens (creating if needed) the store in directory dir and takes its
// exclusive lock. A store locked by someone else gives an *errs.Error of kind
// KindStoreLocked, RV CKR_GENERAL_ERROR and the message
// "Database at <db path> is locked by another process".
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, &errs.Error{Kind: errs.KindState, Op: "open store", RV: pkcs11.CKR_GENERAL_ERROR,
			Msg: "no storage_path configured", Hint: "set token.storage_path in the engine configuration"}
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	db, err := openBolt(path)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, LockedError(path)
	}
	if err != nil {
		e := &errs.Error{Kind: errs.KindState, Op: "open store", RV: pkcs11.CKR_GENERAL_ERROR,
			Msg: fmt.Sprintf("cannot open database at %s: %v", path, err), Err: err}
		if errors.Is(err, errDamagedFile) {
			e.Hint = "restore the storage_path directory from a backup"
		}
		return nil, e
	}
	// bbolt only applies the mode when it creates the file.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: chmod %s: %w", path, err)
	}
	s := &Store{db: db, dir: dir, path: path}
	if err := s.initMeta(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// errDamagedFile is what openBolt's errors for a damaged file wrap.
var errDamagedFile = errors.New("the database is damaged")

// LockedError is the error of a store held by another process.
func LockedError(path string) error {
	return &errs.Error{Kind: errs.KindStoreLocked, RV: pkcs11.CKR_GENERAL_ERROR,
		Msg:  fmt.Sprintf("Database at %s is locked by another process", path),
		Hint: "stop the other craton process (or engine) using this storage_path, or use another storage_path",
		Err:  pkcs11.Error(pkcs11.CKR_GENERAL_ERROR)}
}

func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &errs.Error{Kind: errs.KindState, Op: "open store", RV: pkcs11.CKR_GENERAL_ERROR,
			Msg: fmt.Sprintf("cannot create storage directory %s: %v", dir, err), Err: err}
	}
	// Owner-only: the directory holds the sealed records and the public-object key.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("store: chmod %s: %w", dir, err)
	}
	return nil
}

func (s *Store) initMeta() error {
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := b.Get(keyVersion); v != nil && string(v) != string(formatVersion) && !slices.Contains(oldVersions, string(v)) {
			return &errs.Error{Kind: errs.KindState, Op: "open store", RV: pkcs11.CKR_GENERAL_ERROR,
				Msg: fmt.Sprintf("store format version %q at %s is not supported (want %q)", v, s.path, formatVersion)}
		}
		return b.Put(keyVersion, formatVersion)
	})
}

// openBolt is bolt.Open, whose freelist loading panics on a damaged
// freelist page: the panic (or a fault reading past the map) becomes an
// error. A page layout that would make a later commit hang (checkPages)
// is refused here too.
func openBolt(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errDamagedFile, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait})
	if err != nil {
		return nil, err
	}
	if err := checkFile(db, path); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %w", errDamagedFile, err)
	}
	return db, nil
}

// view and update are db.View and db.Update for a file that may be
// damaged: bbolt panics on a corrupt page ("invalid page type", out-of-range
// page ids), and a damaged length makes it read past the end of its memory
// map (SIGSEGV, fatal to the process). Faults are turned into panics for
// the transaction (debug.SetPanicOnFault, meant for memory-mapped files);
// bbolt's View/Update roll the transaction back on a panic, and the panic
// becomes an error naming the file (found by hsm.TestStoreBitFlips).
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.damaged(&err)
	return s.db.View(fn)
}

func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.damaged(&err)
	if err = s.db.Update(fn); err == nil && s.writes.Add(1)%releaseEvery == 0 {
		s.releaseMapped()
	}
	return err
}

// releaseEvery is how many committed writes pass between two
// releaseMapped calls.
const releaseEvery = 64

// releaseMapped gives back the pages of the memory-mapped database file that
// reads have touched. bbolt reads the file through a shared read-only
// mapping and writes with pwrite, so every page a lookup, a commit or a
// scan once read stays in the process's resident set: the whole file, in
// time (16 MB for 13,000 objects). Releasing them (MADV_DONTNEED, see
// releaseMapping) only unmaps them from the process: they stay in the page
// cache, and the next read faults them back in without I/O; the data is
// the file's either way. It runs in a read transaction, during which bbolt
// does not remap the file.
func (s *Store) releaseMapped() {
	s.view(func(tx *bolt.Tx) error {
		releaseMapping(s.db.Info().Data, tx.Size())
		return nil
	})
}

func (s *Store) damaged(err *error) {
	if r := recover(); r != nil {
		*err = &errs.Error{Kind: errs.KindState, Op: "read store", RV: pkcs11.CKR_GENERAL_ERROR,
			Msg:  fmt.Sprintf("the database at %s is damaged: %v", s.path, r),
			Hint: "restore the storage_path directory from a backup"}
	}
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Dir is the storage directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the lock and closes the database.
func (s *Store) Close() error { return s.db.Close() }

func slotBucketName(slot uint) []byte {
	return binary.BigEndian.AppendUint32([]byte("slot"), uint32(slot))
}

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// slotBucket returns slot's bucket, creating it (and its sub-buckets) in a
// writable transaction; nil in a read-only one when absent.
func slotBucket(tx *bolt.Tx, slot uint) (*bolt.Bucket, error) {
	name := slotBucketName(slot)
	if !tx.Writable() {
		return tx.Bucket(name), nil
	}
	b, err := tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	for _, sub := range [][]byte{bucketObjects, bucketGCM, bucketMaterial} {
		if _, err := b.CreateBucketIfNotExists(sub); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func sub(tx *bolt.Tx, slot uint, name []byte) (*bolt.Bucket, error) {
	b, err := slotBucket(tx, slot)
	if err != nil || b == nil {
		return nil, err
	}
	return b.Bucket(name), nil
}
