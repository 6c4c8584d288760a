package config

import (
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// Fax is the background rendering of outbound faxes (internal/faxrender).
type Fax struct {
	RenderWorkers int           // faxes rendered at once per node
	MaxPages      int           // pages of one fax, cover page included; more: TooManyPages
	MaxBytes      int64         // documents of one fax together; more: RenderingFailed
	RenderTimeout time.Duration // one fax's rendering; longer: RenderingFailed
}

// RingCentral's limits (200 pages, 50 MB) and a worker per core: rendering
// is CPU-bound, and the API answers without waiting for it.
func defaultFax() Fax {
	return Fax{RenderWorkers: runtime.NumCPU(), MaxPages: 200, MaxBytes: 50 << 20, RenderTimeout: 5 * time.Minute}
}

func init() {
	vars = append(vars,
		envVar{"SWITCHBOARD_FAX_RENDER_WORKERS", "fax-render-workers", "outbound faxes rendered at once on this node (default: the number of cores); senders take turns",
			func(c *Config, v string) (err error) { c.Fax.RenderWorkers, err = strconv.Atoi(v); return err },
			func(c *Config) string { return strconv.Itoa(c.Fax.RenderWorkers) }},
		envVar{"SWITCHBOARD_FAX_MAX_PAGES", "fax-max-pages", "most pages of one outbound fax, cover page included; a longer one fails with faxErrorCode TooManyPages",
			func(c *Config, v string) (err error) { c.Fax.MaxPages, err = strconv.Atoi(v); return err },
			func(c *Config) string { return strconv.Itoa(c.Fax.MaxPages) }},
		envVar{"SWITCHBOARD_FAX_MAX_BYTES", "fax-max-bytes", "most bytes of one outbound fax's documents together; larger ones fail with faxErrorCode RenderingFailed",
			func(c *Config, v string) (err error) { c.Fax.MaxBytes, err = strconv.ParseInt(v, 10, 64); return err },
			func(c *Config) string { return strconv.FormatInt(c.Fax.MaxBytes, 10) }},
		envVar{"SWITCHBOARD_FAX_RENDER_TIMEOUT", "fax-render-timeout", "longest rendering of one outbound fax; past it the fax fails with faxErrorCode RenderingFailed",
			func(c *Config, v string) (err error) { c.Fax.RenderTimeout, err = time.ParseDuration(v); return err },
			func(c *Config) string { return c.Fax.RenderTimeout.String() }},
	)
}

func (c *Fax) validate() []error {
	var errs []error
	if c.RenderWorkers < 1 || c.RenderWorkers > 256 {
		errs = append(errs, fmt.Errorf("fax-render-workers %d: want 1 to 256", c.RenderWorkers))
	}
	if c.MaxPages < 1 || c.MaxPages > 200 {
		errs = append(errs, fmt.Errorf("fax-max-pages %d: want 1 to 200 (RingCentral's limit)", c.MaxPages))
	}
	if c.MaxBytes < 1024 || c.MaxBytes > 50<<20 {
		errs = append(errs, fmt.Errorf("fax-max-bytes %d: want 1024 to 52428800 (RingCentral's 50 MB)", c.MaxBytes))
	}
	if c.RenderTimeout < time.Second {
		errs = append(errs, fmt.Errorf("fax-render-timeout %s: want at least 1s", c.RenderTimeout))
	}
	return errs
}
