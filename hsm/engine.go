package hsm

import (
	"os"

	"github.com/craton-co/craton/hsm/config"
)

// New returns an engine for cfg. Nothing is opened until Initialize. The
// configuration is taken as given (validate it with config.Load or
// config.Validate first); zero numeric values fall back to Craton's
// defaults.
//
// With token.persist_objects=false the store lives in a private temporary
// directory removed at Finalize: tokens, objects and lockout counters then
// last for one Initialize…Finalize, as Craton's in-memory mode.
func New(cfg config.Config) *Ctx {
	s := settings{
		Label:           cfg.Token.Label,
		StoragePath:     cfg.Token.StoragePath,
		Persist:         cfg.Token.PersistObjects,
		SlotCount:       cfg.Token.SlotCount,
		Serial:          cfg.Token.SerialNumber,
		MaxSessions:     cfg.Token.MaxSessions,
		MaxRWSessions:   cfg.Token.MaxRWSessions,
		PINMin:          cfg.Security.PINMinLength,
		PINMax:          cfg.Security.PINMaxLength,
		MaxFailedLogins: cfg.Security.MaxFailedLogins,
		Iterations:      cfg.Security.PBKDF2Iterations,
		FIPSOnly:        cfg.Algorithms.FIPSApprovedOnly,
		EnablePQC:       cfg.Algorithms.EnablePQC,
		AllowSHA1Sign:   cfg.Algorithms.AllowSHA1Signing,
		AuditEnabled:    cfg.Audit.Enabled,
		AuditPath:       cfg.Audit.LogPath,
	}
	return newCtx(s, cfg)
}

// Open is New followed by Initialize.
func Open(cfg config.Config) (*Ctx, error) {
	c := New(cfg)
	if err := c.Initialize(); err != nil {
		return nil, err
	}
	return c, nil
}

// Config returns the configuration the engine was created with.
func (c *Ctx) Config() config.Config {
	cfg, _ := c.cfg.(config.Config)
	return cfg
}

// storageDir is where the store goes: the configured path, or a fresh
// private temporary directory when objects are not persisted.
func (c *Ctx) storageDir() (dir string, temp bool, err error) {
	if c.set.Persist {
		return c.set.StoragePath, false, nil
	}
	dir, err = os.MkdirTemp("", "craton-hsm-mem-*")
	return dir, true, err
}
