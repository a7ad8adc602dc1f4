package cli

import (
	"context"
	"log/slog"
	"sync"

	"github.com/lanscout/lanscout/inventory"
	"github.com/lanscout/lanscout/typing"
)

// storedTypes gives the server's scans their classifier: the built-in
// rules, the rules file's admin rules, then the admin types saved in the
// store (web's admin pages), which take effect from the next scan. The
// classifier is rebuilt only when the store's rules version moves; if the
// stored rules cannot be built (a newer lanscout wrote them), scans keep
// the last classifier that could, and say so in the log.
type storedTypes struct {
	store     inventory.TypeRuleStore
	fileRules []typing.Rule
	logger    *slog.Logger

	mu      sync.Mutex
	version int64
	current *typing.Classifier
}

// newStoredTypes starts from base, the classifier without stored rules.
func newStoredTypes(store inventory.TypeRuleStore, fileRules []typing.Rule, base *typing.Classifier, logger *slog.Logger) *storedTypes {
	return &storedTypes{store: store, fileRules: fileRules, logger: logger, version: -1, current: base}
}

// classifier returns the classifier for a scan starting now.
func (st *storedTypes) classifier(ctx context.Context) (*typing.Classifier, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v, err := st.store.TypeRulesVersion(ctx)
	if err != nil {
		return nil, err
	}
	if v == st.version {
		return st.current, nil
	}
	stored, err := st.store.TypeRules(ctx)
	if err != nil {
		return nil, err
	}
	rules, err := inventory.AdminRules(stored)
	if err == nil {
		var c *typing.Classifier
		if c, err = typing.New(typing.Options{AdminRules: append(append([]typing.Rule{}, st.fileRules...), rules...), Logger: st.logger}); err == nil {
			st.current, st.version = c, v
			st.logger.Info("device types loaded", "from_file", len(st.fileRules), "from_store", len(rules), "version", v)
			return c, nil
		}
	}
	// Remember the version so the warning is not repeated every scan.
	st.version = v
	st.logger.Warn("stored device types unusable; scans keep the previous types", "err", err)
	return st.current, nil
}
