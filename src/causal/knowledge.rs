//! Background knowledge a user brings: edges that must not or must appear, and tiers (a cause
//! never lies in a later tier than its effect). Learners that can use it say so; the page names
//! those that ignore it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Constraints on the learned graph, by node index.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Knowledge {
    /// Edges `(from, to)` that must not appear (in this direction).
    pub forbidden: Vec<(usize, usize)>,
    /// Edges `(from, to)` that must appear (in this direction).
    pub required: Vec<(usize, usize)>,
    /// Tier of each node (same length as the number of nodes) or empty for none: an edge from a
    /// later tier into an earlier one is forbidden; edges within a tier are allowed.
    pub tiers: Vec<usize>,
}

impl Knowledge {
    /// True when there is no constraint at all.
    pub fn is_empty(&self) -> bool {
        self.forbidden.is_empty() && self.required.is_empty() && self.tiers.is_empty()
    }

    /// Whether the edge `from → to` may appear.
    pub fn allows(&self, from: usize, to: usize) -> bool {
        if from == to || self.forbidden.contains(&(from, to)) {
            return false;
        }
        match (self.tiers.get(from), self.tiers.get(to)) {
            (Some(tf), Some(tt)) => tf <= tt,
            _ => true,
        }
    }

    /// Whether the edge `from → to` must appear.
    pub fn requires(&self, from: usize, to: usize) -> bool {
        self.required.contains(&(from, to))
    }

    /// A d × d mask, row-major: `true` where `from → to` is allowed.
    pub fn allowed_mask(&self, n_nodes: usize) -> Vec<bool> {
        (0..n_nodes * n_nodes)
            .map(|k| self.allows(k / n_nodes, k % n_nodes))
            .collect()
    }
}

/// Background knowledge as the user writes it, by column name: one edge per line `A -> B`
/// for forbidden and required edges, and one tier per line (names separated by commas or
/// spaces; earlier lines are earlier tiers).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KnowledgeSpec {
    pub forbidden: String,
    pub required: String,
    pub tiers: String,
}

/// A line of background knowledge the learner cannot use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KnowledgeError {
    #[error("{list}, line {line}: \"{text}\" is not an edge written as A -> B")]
    NotAnEdge {
        list: &'static str,
        line: usize,
        text: String,
    },
    #[error("{list}, line {line}: \"{name}\" is not a column of the data (columns: {known})")]
    UnknownName {
        list: &'static str,
        line: usize,
        name: String,
        known: String,
    },
    #[error("the edge {from} -> {to} is both required and forbidden (or against the tiers)")]
    Contradiction { from: String, to: String },
    #[error("tiers: \"{name}\" appears in more than one tier")]
    TwoTiers { name: String },
}

impl KnowledgeError {
    pub fn title(&self) -> &'static str {
        "Background knowledge not understood"
    }

    pub fn hint(&self) -> String {
        match self {
            KnowledgeError::NotAnEdge { .. } => {
                "Write one edge per line as cause -> effect, using the column names.".into()
            }
            KnowledgeError::UnknownName { .. } => {
                "Use the column names exactly as the preview shows them (case matters).".into()
            }
            KnowledgeError::Contradiction { .. } => {
                "Remove the edge from one of the lists, or move its nodes to other tiers.".into()
            }
            KnowledgeError::TwoTiers { .. } => "Put each variable in one tier only.".into(),
        }
    }
}

impl KnowledgeSpec {
    pub fn is_empty(&self) -> bool {
        self.forbidden.trim().is_empty()
            && self.required.trim().is_empty()
            && self.tiers.trim().is_empty()
    }

    /// Resolves the names against the columns of the prepared data.
    pub fn resolve(&self, names: &[String]) -> Result<Knowledge, KnowledgeError> {
        let known = || names.join(", ");
        let index = |list: &'static str, line: usize, name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| KnowledgeError::UnknownName {
                    list,
                    line,
                    name: name.to_string(),
                    known: known(),
                })
        };
        let edges =
            |list: &'static str, text: &str| -> Result<Vec<(usize, usize)>, KnowledgeError> {
                let mut out = vec![];
                for (k, raw) in text.lines().enumerate() {
                    let line = raw.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let parts: Vec<&str> = line
                        .split(['→', '>'])
                        .map(|p| p.trim().trim_end_matches('-').trim())
                        .collect();
                    if parts.len() != 2 || parts[0].is_empty() || parts[1].is_empty() {
                        return Err(KnowledgeError::NotAnEdge {
                            list,
                            line: k + 1,
                            text: line.to_string(),
                        });
                    }
                    out.push((index(list, k + 1, parts[0])?, index(list, k + 1, parts[1])?));
                }
                Ok(out)
            };
        let forbidden = edges("forbidden edges", &self.forbidden)?;
        let required = edges("required edges", &self.required)?;
        let mut tiers = vec![];
        let mut tier_of: Vec<Option<usize>> = vec![None; names.len()];
        let mut tier = 0;
        for (k, raw) in self.tiers.lines().enumerate() {
            let members: Vec<&str> = raw
                .split([',', ' ', '\t', ';'])
                .filter(|s| !s.is_empty())
                .collect();
            if members.is_empty() {
                continue;
            }
            for m in members {
                let i = index("tiers", k + 1, m)?;
                if tier_of[i].is_some() {
                    return Err(KnowledgeError::TwoTiers {
                        name: m.to_string(),
                    });
                }
                tier_of[i] = Some(tier);
            }
            tier += 1;
        }
        if tier_of.iter().any(|t| t.is_some()) {
            // Variables left out of every tier go in a last tier of their own.
            tiers = tier_of.iter().map(|t| t.unwrap_or(tier)).collect();
        }
        let knowledge = Knowledge {
            forbidden,
            required,
            tiers,
        };
        if let Some(&(a, b)) = knowledge
            .required
            .iter()
            .find(|&&(a, b)| !knowledge.allows(a, b))
        {
            return Err(KnowledgeError::Contradiction {
                from: names[a].clone(),
                to: names[b].clone(),
            });
        }
        Ok(knowledge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_forbid_backward_edges_only() {
        let k = Knowledge {
            forbidden: vec![(0, 1)],
            required: vec![(2, 1)],
            tiers: vec![0, 1, 1],
        };
        assert!(!k.allows(0, 1));
        assert!(k.allows(0, 2));
        assert!(!k.allows(2, 0));
        assert!(k.allows(1, 2) && k.allows(2, 1));
        assert!(!k.allows(1, 1));
        assert!(k.requires(2, 1) && !k.requires(1, 2));
        assert_eq!(k.allowed_mask(3).iter().filter(|&&a| a).count(), 3);
        assert!(Knowledge::default().is_empty());
    }

    #[test]
    fn written_knowledge_is_resolved_by_name() {
        let names: Vec<String> = ["age", "smoking", "cancer"].map(String::from).to_vec();
        let spec = KnowledgeSpec {
            forbidden: "cancer -> smoking\n\n# comment\ncancer → age".into(),
            required: "smoking->cancer".into(),
            tiers: "age\nsmoking, cancer".into(),
        };
        let k = spec.resolve(&names).unwrap();
        assert_eq!(k.forbidden, vec![(2, 1), (2, 0)]);
        assert_eq!(k.required, vec![(1, 2)]);
        assert_eq!(k.tiers, vec![0, 1, 1]);
        let bad = KnowledgeSpec {
            forbidden: "cancer smoking".into(),
            ..KnowledgeSpec::default()
        };
        assert!(matches!(
            bad.resolve(&names),
            Err(KnowledgeError::NotAnEdge { line: 1, .. })
        ));
        let unknown = KnowledgeSpec {
            required: "age -> Cancer".into(),
            ..KnowledgeSpec::default()
        };
        let err = unknown.resolve(&names).unwrap_err();
        assert!(err.to_string().contains("\"Cancer\""), "{err}");
        let contradiction = KnowledgeSpec {
            required: "cancer -> age".into(),
            tiers: "age\ncancer".into(),
            ..KnowledgeSpec::default()
        };
        assert!(matches!(
            contradiction.resolve(&names),
            Err(KnowledgeError::Contradiction { .. })
        ));
        let partial_tiers = KnowledgeSpec {
            tiers: "cancer".into(),
            ..KnowledgeSpec::default()
        };
        assert_eq!(partial_tiers.resolve(&names).unwrap().tiers, vec![1, 1, 0]);
    }
}
