// Package config is the embedded Craton HSM engine's configuration: the
// YAML file craton_hsm.yaml, its defaults and its validation rules.
//
// The sections and keys are Craton's (craton-hsm-core src/config/config.rs,
// reference §11) spelled in YAML instead of TOML: token, security,
// algorithms and audit. Defaults and ranges follow Craton's code; where
// Craton's documentation says something else the code wins and a comment
// says so. Unlike Craton, an unknown key is an error (Craton ignores it), so
// a misspelt key can never silently leave a security setting at its
// default.
//
// Load finds the file (argument, then $CRATON_HSM_CONFIG, then
// ./craton_hsm.yaml, else the defaults), applies $CRATON_HSM_FIPS, resolves
// relative paths against the file's directory and validates. Every error is
// an *errs.Error of kind errs.KindInput whose hint names the fix.
//
// This package only reads and checks settings; it must not import hsm (the
// engine), hsm/audit or any migration package (inventory, wrapmove, verify,
// cmd). The engine reads a Config; nothing here acts on it.
package config
