// Package analysis is Firebreak's learning toolkit: pure functions on the standard library and the domain types.
//
//   - Incident metrics (metrics*.go): per-incident durations derived from milestones, their distributions, and
//     failure-interval metrics; the definitions are in docs/METRICS.md.
//   - The blameless-language linter (lint*.go): Lint checks the text fields of a post-mortem for blame,
//     counterfactuals, hindsight, minimisers and vague action items, and says which findings block publishing.
package analysis
