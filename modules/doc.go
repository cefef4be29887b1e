// Package modules opens a PKCS#11 module by the name an operator gives:
// "embedded" for the Craton HSM engine in this process (configured by its
// YAML file), or the path of any PKCS#11 shared library. Either way the
// caller gets a *p11.Loaded, so nothing above this package knows which kind
// of module it holds.
//
// It holds no PKCS#11 or migration logic; it must not import cmd/.
package modules
