//! What the page says about each structure learner: name, paper, a two-line explanation, what
//! it returns, whether it uses background knowledge, and which of its settings are editable.
//!
//! Kept in the core (not in the UI) so a native test checks that every editable setting names a
//! real numeric field of the learner's parameters.

use super::GraphKind;

/// One editable numeric setting: `key` is the serde name of the field in the learner's
/// `XyzParams`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamField {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub min: f64,
    pub step: f64,
    pub integer: bool,
}

/// What the page shows about one learner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlgorithmInfo {
    /// The value in `[data-testid=algorithm]` and in links.
    pub id: &'static str,
    pub name: &'static str,
    /// Authors and year, short enough for the learner menu.
    pub citation: &'static str,
    /// The paper's title: the text of the link to it beside the summary.
    pub paper_title: &'static str,
    pub paper_url: &'static str,
    /// Two plain-words sentences for learners.
    pub summary: &'static str,
    pub output: GraphKind,
    /// Whether forbidden / required edges and tiers are used.
    pub uses_knowledge: bool,
    /// What it does with each kind of knowledge, in words for the page.
    pub knowledge_use: &'static str,
    /// Whether every required edge is guaranteed to appear in its result.
    pub forces_required: bool,
    /// Whether it reads per-row intervention targets.
    pub uses_interventions: bool,
    /// The key of the final weight threshold, which also sets the view's slider.
    pub threshold_key: Option<&'static str>,
    pub fields: &'static [ParamField],
}

const fn field(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min: f64,
    step: f64,
    integer: bool,
) -> ParamField {
    ParamField {
        key,
        label,
        help,
        min,
        step,
        integer,
    }
}

/// Every learner the page offers, in the order of the `<select>`.
pub const ALGORITHMS: &[AlgorithmInfo] = &[NOTEARS, DAGMA, SDCD, PC, GES, XGES];

const NOTEARS: AlgorithmInfo = AlgorithmInfo {
    id: "notears",
    name: "NOTEARS",
    citation: "Zheng, Aragam, Ravikumar & Xing (NeurIPS 2018)",
    paper_title: "DAGs with NO TEARS: Continuous Optimization for Structure Learning",
    paper_url: "https://arxiv.org/abs/1803.01422",
    summary: "Fits each variable as a weighted sum of the others (X ≈ XW) and turns “no cycles” \
              into a smooth equation, h(W) = tr(e^(W∘W)) − d = 0, which an augmented Lagrangian \
              drives to zero. Watch the cycles disappear as the penalty ρ grows.",
    output: GraphKind::Dag,
    uses_knowledge: true,
    knowledge_use: "Forbidden edges and tiers hold their weights at zero (through the optimizer's bounds). Required edges are ignored: NOTEARS cannot fix a weight whose sign it does not know.",
    forces_required: false,
    uses_interventions: false,
    threshold_key: Some("w_threshold"),
    fields: &[
        field(
            "lambda1",
            "L1 penalty λ₁",
            "larger → sparser graphs",
            0.0,
            0.01,
            false,
        ),
        field(
            "w_threshold",
            "Final threshold",
            "edges with |w| below are dropped",
            0.0,
            0.05,
            false,
        ),
        field(
            "max_iter",
            "Max outer iterations",
            "dual-ascent steps before giving up",
            1.0,
            1.0,
            true,
        ),
    ],
};

const SDCD: AlgorithmInfo = AlgorithmInfo {
    id: "sdcd",
    name: "SDCD",
    citation: "Nazaret, Hong, Azizi & Blei (2023)",
    paper_title: "Stable Differentiable Causal Discovery",
    paper_url: "https://arxiv.org/abs/2311.10263",
    summary: "Fits one small neural network per variable, predicting it from the others, and \
              reads edge strengths off the networks' first layers. Stage 1 prunes unlikely \
              edges without any acyclicity constraint; stage 2 adds γ·ρ(A), the spectral radius \
              of the edge-strength matrix, raising γ until the graph has no cycle. With an \
              intervention column, the rows where a variable was set by an experiment do not \
              count towards fitting that variable.",
    output: GraphKind::Dag,
    uses_knowledge: true,
    knowledge_use: "Forbidden edges and tiers are masked out of every network; required edges stay in the mask of stage 2 and are placed first when the final DAG is built, so they always appear.",
    forces_required: true,
    uses_interventions: true,
    threshold_key: Some("threshold"),
    fields: &[
        field(
            "threshold",
            "Final threshold",
            "edges whose strength ‖W‖ is below are dropped",
            0.0,
            0.05,
            false,
        ),
        field(
            "stage1_l1",
            "Stage-1 L1 penalty α",
            "larger → fewer candidate edges survive pre-selection",
            0.0,
            0.001,
            false,
        ),
        field(
            "gamma_increment",
            "γ increase per epoch",
            "faster → acyclic sooner, less careful",
            0.0,
            0.001,
            false,
        ),
        field(
            "stage1_epochs",
            "Max stage-1 epochs",
            "training epochs of the pre-selection stage",
            1.0,
            100.0,
            true,
        ),
        field(
            "stage2_epochs",
            "Max stage-2 epochs",
            "training epochs under the acyclicity penalty",
            1.0,
            100.0,
            true,
        ),
        field(
            "seed",
            "Seed",
            "validation split, initial weights and batch order",
            0.0,
            1.0,
            true,
        ),
    ],
};

const DAGMA: AlgorithmInfo = AlgorithmInfo {
    id: "dagma",
    name: "DAGMA",
    citation: "Bello, Aragam & Ravikumar (NeurIPS 2022)",
    paper_title: "DAGMA: Learning DAGs via M-matrices and a Log-Determinant Acyclicity Characterization",
    paper_url: "https://arxiv.org/abs/2209.08037",
    summary: "Like NOTEARS it fits X ≈ XW, but measures cycles with h(W) = −log det(sI − W∘W) + \
              d·log s, which is zero exactly on DAGs and cheaper than a matrix exponential. It \
              follows a central path: the fit's weight μ shrinks tenfold at each of five stages \
              while W is kept inside the region where h is defined. Watch h fall each time μ \
              drops, while the fit's loss rises a little.",
    output: GraphKind::Dag,
    uses_knowledge: true,
    knowledge_use: "Forbidden edges and tiers hold their weights at zero; required edges get a reward in place of the L1 penalty (dagma's include_edges), so they usually, not always, appear.",
    forces_required: false,
    uses_interventions: false,
    threshold_key: Some("w_threshold"),
    fields: &[
        field(
            "lambda1",
            "L1 penalty λ₁",
            "larger → sparser graphs (0.02 as in the paper; the package's fit() uses 0.03)",
            0.0,
            0.01,
            false,
        ),
        field(
            "w_threshold",
            "Final threshold",
            "edges with |w| below are dropped",
            0.0,
            0.05,
            false,
        ),
        field(
            "lr",
            "Adam learning rate",
            "halved automatically when W leaves the M-matrix domain",
            0.0,
            0.0001,
            false,
        ),
    ],
};

const PC: AlgorithmInfo = AlgorithmInfo {
    id: "pc",
    name: "PC (stable)",
    citation: "Spirtes & Glymour (1991); Colombo & Maathuis (2014)",
    paper_title: "Order-Independent Constraint-Based Causal Structure Learning (Colombo & Maathuis, JMLR 2014)",
    paper_url: "https://jmlr.org/papers/v15/colombo14a.html",
    summary: "Starts from the complete graph and deletes an edge whenever two variables look \
              independent given some set of their neighbours (Fisher's z test on partial \
              correlations), trying sets of size 0, 1, 2, … in turn. Colliders a → c ← b are \
              read from the separating sets, and Meek's rules orient what follows.",
    output: GraphKind::Cpdag,
    uses_knowledge: true,
    knowledge_use: "Edges forbidden both ways (directly or by tiers) are left out of the skeleton; a required edge is never tested away (as Tetrad's PC; causal-learn may drop it), and every edge is oriented as the knowledge says, colliders and Meek's rules never orienting against it.",
    forces_required: true,
    uses_interventions: false,
    threshold_key: None,
    fields: &[field(
        "alpha",
        "Significance level α",
        "smaller → fewer edges survive (each test is stricter)",
        0.0,
        0.01,
        false,
    )],
};

const GES: AlgorithmInfo = AlgorithmInfo {
    id: "ges",
    name: "GES",
    citation: "Chickering (JMLR 2002)",
    paper_title: "Optimal Structure Identification With Greedy Search",
    paper_url: "https://www.jmlr.org/papers/v3/chickering02b.html",
    summary: "Searches over Markov equivalence classes with a score (Gaussian BIC): a forward \
              phase inserts the edge that raises the score most until none does, then a \
              backward phase deletes edges while that helps. Watch the graph grow, then shrink.",
    output: GraphKind::Cpdag,
    uses_knowledge: true,
    knowledge_use: "An Insert never adds an edge forbidden directly or by tiers, and a Delete never removes a required one, but required edges are not forced in, and the CPDAG may show an edge undirected although one direction is forbidden (an undirected edge stands for the class).",
    forces_required: false,
    uses_interventions: false,
    threshold_key: None,
    fields: &[field(
        "lambda",
        "BIC penalty λ",
        "per parameter, times log n; larger → sparser (0.5 is the standard BIC)",
        0.0,
        0.1,
        false,
    )],
};

const XGES: AlgorithmInfo = AlgorithmInfo {
    id: "xges",
    name: "XGES",
    citation: "Nazaret & Blei (2025)",
    paper_title: "Extremely Greedy Equivalence Search",
    paper_url: "https://arxiv.org/abs/2502.19551",
    summary: "A faster, more accurate GES: inserts, deletes and reversals compete in one loop \
              (a helpful deletion always wins), only operators near a change are re-scored, \
              and a final extended search forces each edge out to escape local optima.",
    output: GraphKind::Cpdag,
    uses_knowledge: true,
    knowledge_use: "Forbidden edges and tiers are never inserted (as the reference's forbidden inserts); required edges are not enforced, and the CPDAG's completion may still show an edge undirected or against a forbidden direction.",
    forces_required: false,
    uses_interventions: false,
    threshold_key: None,
    fields: &[field(
        "alpha",
        "BIC penalty α",
        "penalty per parameter is α/2 · log n; the default α = 2 (xges's) charges log n, twice the usual BIC's ½ log n that GES uses here, so XGES keeps fewer edges",
        0.0,
        0.5,
        false,
    )],
};

/// The learner with this id.
pub fn info(id: &str) -> Option<&'static AlgorithmInfo> {
    ALGORITHMS.iter().find(|a| a.id == id)
}

// serde_json is a native-only dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::protocol::AlgorithmParams;

    #[test]
    fn every_learner_says_what_it_does_with_each_kind_of_knowledge() {
        for info in ALGORITHMS {
            let text = info.knowledge_use.to_lowercase();
            for kind in ["forbidden", "tiers", "required"] {
                assert!(text.contains(kind), "{}: says nothing of {kind}", info.id);
            }
        }
        // SDCD and PC guarantee required edges (sdcd::tests::a_required_edge_always_appears,
        // pc::tests::a_required_edge_is_kept_and_oriented).
        let forcing: Vec<_> = ALGORITHMS
            .iter()
            .filter(|a| a.forces_required)
            .map(|a| a.id)
            .collect();
        assert_eq!(forcing, ["sdcd", "pc"]);
    }

    #[test]
    fn the_menu_names_authors_and_the_link_the_title() {
        // The menu shows "name — citation": at most ~70 characters, so that it fits a 1024 px
        // window's Discover panel; the paper's title is the link text beside the summary.
        for info in ALGORITHMS {
            let option = format!("{} — {}", info.name, info.citation);
            assert!(option.chars().count() <= 72, "{option}");
            assert!(!info.paper_title.is_empty() && !info.citation.contains(info.paper_title));
            assert!(info.paper_url.starts_with("https://"), "{}", info.id);
        }
    }

    #[test]
    fn every_field_is_a_number_in_the_default_params() {
        for info in ALGORITHMS {
            let params = AlgorithmParams::default_for(info.id)
                .unwrap_or_else(|| panic!("no default params for {}", info.id));
            assert_eq!(params.id(), info.id);
            let value = serde_json::to_value(&params).unwrap();
            let fields = value
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|v| v.as_object())
                .unwrap_or_else(|| panic!("{}: params are not a struct", info.id));
            for f in info.fields {
                assert!(
                    fields.get(f.key).is_some_and(|v| v.is_number()),
                    "{}: no numeric field {}",
                    info.id,
                    f.key
                );
            }
            if let Some(key) = info.threshold_key {
                assert!(info.fields.iter().any(|f| f.key == key), "{}", info.id);
            }
        }
        let mut ids: Vec<_> = ALGORITHMS.iter().map(|a| a.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALGORITHMS.len());
    }
}
