package hsm

import (
	"os"
	"sync"

	"github.com/craton-co/craton/hsm/store"
	"github.com/miekg/pkcs11"
)

// Ctx is one engine instance: the slots of one store. Create it with New
// (or Open) and call Initialize before anything else.
type Ctx struct {
	set settings
	cfg any // the config.Config given to New, returned by Config()

	// initMu serialises Initialize and Finalize.
	initMu sync.Mutex

	// mu guards everything below. Long work (PBKDF2, crypto) runs outside
	// it; store writes run inside it so that memory and disk agree.
	mu          sync.RWMutex
	initialized bool
	postFailed  bool
	pid         int
	st          *store.Store
	audit       auditSink
	results     []SelfTestResult
	problems    []error
	tokens      []*token
	sessions    map[pkcs11.SessionHandle]*session
	objects     map[pkcs11.ObjectHandle]*object
	index       attrIndex
	keys        *keyRing        // bounds the objects' cached parsed keys
	reserved    map[uint32]bool // handles of persisted objects not loaded yet
	objHandles  *handleAlloc
	sessHandles *handleAlloc
	seq         uint64 // object creation order, for stable find results
	tempDir     string // store directory removed at Finalize (persist_objects=false)
}

func newCtx(s settings, cfg any) *Ctx {
	return &Ctx{set: s.withDefaults(), cfg: cfg}
}

// StorePath is the database file of the store (empty before Initialize).
func (c *Ctx) StorePath() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return ""
	}
	return c.st.Path()
}

// StoreProblems lists records that could not be loaded (e.g. "record fails
// authentication"); the token works without them.
func (c *Ctx) StoreProblems() []error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]error(nil), c.problems...)
}

// Initialize opens the store (taking its exclusive lock), opens the audit
// log, runs the power-on self-tests and loads the public token objects.
// A failed POST leaves the engine failing every call with CKR_GENERAL_ERROR
// until Initialize is called again and passes.
func (c *Ctx) Initialize() error {
	c.initMu.Lock()
	defer c.initMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.initialized && !c.forked() {
		return rvErr(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)
	}
	c.resetLocked()
	// Store first: a second process must see the store's lock message, not
	// the audit log's.
	dir, temp, err := c.storageDir()
	if err != nil {
		return errGeneral
	}
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	if temp {
		c.tempDir = dir
	}
	au, err := openAudit(c.set)
	if err != nil {
		c.closeStore(st)
		return err
	}
	c.audit = au
	if !c.runPOST() {
		c.postFailed = true
		c.pid = os.Getpid()
		c.audit.close()
		c.audit = nopAudit{}
		c.closeStore(st)
		return errGeneral
	}
	c.st = st
	if err := c.loadTokens(); err != nil {
		c.audit.close()
		c.closeStore(st)
		c.resetLocked()
		return err
	}
	c.pid = os.Getpid()
	c.initialized = true
	c.postFailed = false
	return c.auditLocked(evSystem("Initialize"), nil)
}

// resetLocked clears all in-memory state (a fresh instance, also in a
// forked child, whose inherited store handle and sessions are not its own).
func (c *Ctx) resetLocked() {
	c.initialized, c.postFailed, c.pid = false, false, 0
	c.st, c.audit, c.results, c.problems, c.tokens, c.tempDir = nil, nopAudit{}, nil, nil, nil, ""
	c.sessions = map[pkcs11.SessionHandle]*session{}
	c.objects = map[pkcs11.ObjectHandle]*object{}
	c.index = attrIndex{}
	c.keys = newKeyRing()
	c.reserved = map[uint32]bool{}
	c.objHandles = newHandleAlloc(func(h uint32) bool {
		return c.reserved[h] || c.objects[pkcs11.ObjectHandle(h)] != nil
	})
	c.sessHandles = newHandleAlloc(func(h uint32) bool { return c.sessions[pkcs11.SessionHandle(h)] != nil })
}

// closeStore closes st and removes a temporary store directory.
func (c *Ctx) closeStore(st *store.Store) error {
	err := st.Close()
	if c.tempDir != "" {
		os.RemoveAll(c.tempDir)
		c.tempDir = ""
	}
	return err
}

// Finalize closes every session, the store and the audit log. The Ctx can
// be initialised again.
func (c *Ctx) Finalize() error {
	c.initMu.Lock()
	defer c.initMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkLocked(); err != nil {
		if c.postFailed {
			c.resetLocked() // let a failed engine be finalised and retried
			return nil
		}
		return err
	}
	auditErr := c.auditLocked(evSystem("Finalize"), nil)
	for _, t := range c.tokens {
		t.logoutLocked()
	}
	c.audit.close()
	err := c.closeStore(c.st)
	c.resetLocked()
	if err != nil {
		return asRV(err)
	}
	return auditErr
}

// checkLocked is the gate every call passes first, in Craton's order: POST
// failure, then fork, then initialisation. Needs c.mu (read or write).
func (c *Ctx) checkLocked() error {
	switch {
	case c.postFailed && !c.forked():
		return errGeneral
	case c.forked():
		return errNotInitialized
	case !c.initialized:
		return errNotInitialized
	}
	return nil
}

// rlock takes the read lock after the gate; callers defer c.mu.RUnlock()
// only when it returns nil.
func (c *Ctx) rlock() error {
	c.mu.RLock()
	if err := c.checkLocked(); err != nil {
		c.mu.RUnlock()
		return err
	}
	return nil
}

// lock takes the write lock after the gate.
func (c *Ctx) lock() error {
	c.mu.Lock()
	if err := c.checkLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}
