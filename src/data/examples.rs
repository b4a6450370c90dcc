//! Built-in datasets, embedded in the binary so they load without a network request.
//!
//! Sachs et al. (2005) flow-cytometry data; see `static/data/PROVENANCE.md` for sources.

use super::DataError;
use crate::graph::DiGraph;

/// The observational block of Sachs et al.: 853 cells × 11 proteins, with a header row.
pub const SACHS_OBSERVATIONAL_CSV: &[u8] =
    include_bytes!("../../static/data/sachs_observational.csv");

/// The 17-edge consensus network as `cause,effect` rows.
const SACHS_CONSENSUS_EDGES_CSV: &[u8] =
    include_bytes!("../../static/data/sachs_consensus_edges.csv");

/// The consensus network of Sachs et al. as (cause, effect) pairs of column names.
pub fn sachs_consensus_edges() -> Vec<(String, String)> {
    parse_edges(SACHS_CONSENSUS_EDGES_CSV)
}

/// Parses a two-column `cause,effect` edge list with a header; unreadable rows are skipped
/// (the embedded file is checked by a test, so none are expected).
fn parse_edges(bytes: &[u8]) -> Vec<(String, String)> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| Some((r.get(0)?.trim().to_string(), r.get(1)?.trim().to_string())))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect()
}

/// The graph over `names` (in their order) with the given named edges.
pub fn truth_graph(names: &[String], edges: &[(String, String)]) -> Result<DiGraph, DataError> {
    let index = |name: &String| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| DataError::UnknownNode {
                name: name.clone(),
                known: names.join(", "),
            })
    };
    let pairs = edges
        .iter()
        .map(|(a, b)| Ok((index(a)?, index(b)?)))
        .collect::<Result<Vec<_>, DataError>>()?;
    Ok(DiGraph::from_edges(names.len(), &pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_reader::{read_csv, Prep};

    #[test]
    fn sachs_reads_as_853_by_11_without_blocking_problems() {
        let table = read_csv(SACHS_OBSERVATIONAL_CSV).unwrap();
        assert_eq!(table.n_rows, 853);
        assert_eq!(table.columns.len(), 11);
        assert!(table.had_header);
        assert!(!table.problems().iter().any(|p| p.blocks()));
        let d = table
            .to_dataset(&Prep {
                standardize: true,
                ..Prep::default()
            })
            .unwrap();
        assert_eq!((d.n_rows(), d.n_cols()), (853, 11));
    }

    #[test]
    fn sachs_has_17_edges_forming_a_dag() {
        let edges = sachs_consensus_edges();
        assert_eq!(edges.len(), 17);
        assert_eq!(edges[0], ("praf".to_string(), "pmek".to_string()));
        let names = read_csv(SACHS_OBSERVATIONAL_CSV).unwrap().names();
        let g = truth_graph(&names, &edges).unwrap();
        assert_eq!(g.n_edges(), 17);
        assert!(g.is_acyclic());
        assert!(g.has_edge(0, 1));
    }

    #[test]
    fn unknown_node_is_named() {
        let names = vec!["a".to_string(), "b".to_string()];
        let err = truth_graph(&names, &[("a".into(), "zz".into())]).unwrap_err();
        assert!(
            err.to_string().contains("\"zz\"") && err.to_string().contains("a, b"),
            "{err}"
        );
    }
}
