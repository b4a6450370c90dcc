//! Text exports of a learned weighted graph (Graphviz DOT, JSON, adjacency CSV) for download.
//!
//! Pure functions over names and a weight matrix where `W[(i, j)]` is the weight of i → j.
//! They never fail: a name missing for some index becomes `X<i>`, matrix entries outside the
//! matrix count as zero, and out-of-range or self-loop undirected pairs are skipped, because a
//! download button has no good way to report an error.

use nalgebra::DMatrix;

/// Colour of positive-weight edges (matplotlib's default blue).
const POSITIVE_COLOR: &str = "#1f77b4";
/// Colour of negative-weight edges (matplotlib's default red).
const NEGATIVE_COLOR: &str = "#d62728";

/// An edge to write: `directed == false` for an undirected pair (drawn without an arrow).
struct Edge {
    from: usize,
    to: usize,
    weight: f64,
    directed: bool,
}

/// Number of nodes: every name, and every row/column of the square part of the matrix.
fn n_nodes(names: &[String], weights: &DMatrix<f64>) -> usize {
    names.len().max(weights.nrows().min(weights.ncols()))
}

fn name(names: &[String], i: usize) -> String {
    names
        .get(i)
        .cloned()
        .unwrap_or_else(|| format!("X{}", i + 1))
}

fn weight(weights: &DMatrix<f64>, i: usize, j: usize) -> f64 {
    weights.get((i, j)).copied().unwrap_or(0.0)
}

/// The drawable edges: each valid undirected pair once (lower index first, weight of whichever
/// direction is non-zero, else 0), then every finite non-zero off-diagonal weight whose pair is
/// not undirected, ordered by source then target. Non-finite weights are skipped since neither
/// DOT labels nor JSON numbers can carry them meaningfully.
fn edges(n: usize, weights: &DMatrix<f64>, undirected: &[(usize, usize)]) -> Vec<Edge> {
    let mut pairs: Vec<(usize, usize)> = undirected
        .iter()
        .filter(|&&(a, b)| a != b && a < n && b < n)
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let finite_nonzero = |w: f64| w.is_finite() && w != 0.0;
    let mut out: Vec<Edge> = pairs
        .iter()
        .map(|&(a, b)| {
            let (ab, ba) = (weight(weights, a, b), weight(weights, b, a));
            let w = if finite_nonzero(ab) {
                ab
            } else if finite_nonzero(ba) {
                ba
            } else {
                0.0
            };
            Edge {
                from: a,
                to: b,
                weight: w,
                directed: false,
            }
        })
        .collect();
    for i in 0..n {
        for j in 0..n {
            let w = weight(weights, i, j);
            if i != j && finite_nonzero(w) && pairs.binary_search(&(i.min(j), i.max(j))).is_err() {
                out.push(Edge {
                    from: i,
                    to: j,
                    weight: w,
                    directed: true,
                });
            }
        }
    }
    out
}

/// Graphviz DOT: `digraph "causeway" { ... }` with every node declared (so isolated ones show),
/// edges labelled with the weight to 3 significant digits, blue when positive and red when
/// negative, thicker for larger |w|; undirected pairs use `dir=none`.
pub fn to_dot(names: &[String], weights: &DMatrix<f64>, undirected: &[(usize, usize)]) -> String {
    let n = n_nodes(names, weights);
    let edges = edges(n, weights, undirected);
    let max_abs = edges.iter().fold(0.0_f64, |m, e| m.max(e.weight.abs()));
    let mut out = String::from("digraph \"causeway\" {\n  node [shape=box, style=rounded];\n");
    for i in 0..n {
        out.push_str(&format!("  {};\n", dot_quote(&name(names, i))));
    }
    for e in &edges {
        let color = if e.weight < 0.0 {
            NEGATIVE_COLOR
        } else {
            POSITIVE_COLOR
        };
        let rel = if max_abs > 0.0 {
            e.weight.abs() / max_abs
        } else {
            0.0
        };
        let mut attrs = format!(
            "label=\"{}\", color=\"{color}\", fontcolor=\"{color}\", penwidth={:.2}",
            significant3(e.weight),
            1.0 + 3.0 * rel
        );
        if !e.directed {
            attrs.push_str(", dir=none");
        }
        out.push_str(&format!(
            "  {} -> {} [{attrs}];\n",
            dot_quote(&name(names, e.from)),
            dot_quote(&name(names, e.to))
        ));
    }
    out.push_str("}\n");
    out
}

/// JSON: `{"nodes":[{"id":0,"name":"A"},...],"edges":[{"source":0,"target":1,"weight":1.5,
/// "directed":true},...]}` where `source`/`target` are node ids (indices). Strings are escaped
/// and every number is finite, so any JSON parser accepts it.
pub fn to_json(names: &[String], weights: &DMatrix<f64>, undirected: &[(usize, usize)]) -> String {
    let n = n_nodes(names, weights);
    let nodes: Vec<String> = (0..n)
        .map(|i| format!("{{\"id\":{i},\"name\":{}}}", json_string(&name(names, i))))
        .collect();
    let edges: Vec<String> = edges(n, weights, undirected)
        .iter()
        .map(|e| {
            format!(
                "{{\"source\":{},\"target\":{},\"weight\":{},\"directed\":{}}}",
                e.from,
                e.to,
                number(e.weight),
                e.directed
            )
        })
        .collect();
    format!(
        "{{\"nodes\":[\n{}\n],\"edges\":[\n{}\n]}}\n",
        nodes.join(",\n"),
        edges.join(",\n")
    )
}

/// Adjacency matrix as CSV: header `,A,B,C`, then one row per node `A,0,1.5,0`, where row i
/// column j is the weight of i → j (row = cause, column = effect). Names containing commas,
/// quotes or line breaks are quoted; numbers are written so they parse back exactly.
pub fn to_adjacency_csv(names: &[String], weights: &DMatrix<f64>) -> String {
    let n = n_nodes(names, weights);
    let mut out = String::new();
    for i in 0..n {
        out.push(',');
        out.push_str(&csv_field(&name(names, i)));
    }
    out.push('\n');
    for i in 0..n {
        out.push_str(&csv_field(&name(names, i)));
        for j in 0..n {
            out.push(',');
            out.push_str(&number(weight(weights, i, j)));
        }
        out.push('\n');
    }
    out
}

/// A DOT quoted ID. Backslashes are doubled (Graphviz label escapes would otherwise eat them),
/// line breaks become `\n` label breaks and other control characters spaces, so the ID always
/// stays on one line.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON string literal (RFC 8259 escapes; control characters as `\u00XX`).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A CSV field, quoted (with doubled quotes) only when it would otherwise split or mislead.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Shortest text that parses back to exactly `w`, in plain notation for ordinary magnitudes and
/// scientific otherwise (both valid JSON numbers when finite). -0 is written as 0.
fn number(w: f64) -> String {
    if w == 0.0 {
        "0".to_string()
    } else if !w.is_finite() || (1e-5..1e15).contains(&w.abs()) {
        format!("{w}")
    } else {
        format!("{w:e}")
    }
}

/// `w` rounded to 3 significant digits for edge labels: plain notation for ordinary
/// magnitudes, scientific for tiny or huge ones.
fn significant3(w: f64) -> String {
    if w == 0.0 || !w.is_finite() {
        return number(w);
    }
    // Rounding through the scientific form first gets the exponent right for values like
    // 9.996, which round up to the next decade.
    let sci = format!("{w:.2e}");
    let exponent: i32 = sci
        .rsplit('e')
        .next()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    if (-3..3).contains(&exponent) {
        let decimals = (2 - exponent).max(0) as usize;
        format!("{w:.decimals$}")
    } else {
        sci
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn sample() -> (Vec<String>, DMatrix<f64>) {
        let w = DMatrix::from_row_slice(3, 3, &[0.0, 1.5, 0.0, 0.0, 0.0, -0.25, 0.0, 0.0, 0.0]);
        (names(&["A", "B", "C"]), w)
    }

    /// Minimal structural JSON check: brackets balance outside strings, strings terminate,
    /// and no raw control characters appear inside strings.
    fn json_is_balanced(s: &str) -> bool {
        let mut stack = Vec::new();
        let (mut in_string, mut escaped) = (false, false);
        for c in s.chars() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    (false, c) if (c as u32) < 0x20 => return false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => stack.push(c),
                '}' if stack.pop() != Some('{') => return false,
                ']' if stack.pop() != Some('[') => return false,
                _ => {}
            }
        }
        stack.is_empty() && !in_string
    }

    /// Splits one CSV line into fields, honouring quotes (enough for these tests).
    fn csv_split(line: &str) -> Vec<String> {
        let (mut fields, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (false, '"') => quoted = true,
                (false, ',') => fields.push(std::mem::take(&mut cur)),
                (_, c) => cur.push(c),
            }
        }
        fields.push(cur);
        fields
    }

    #[test]
    fn dot_has_every_node_and_edge_with_styles() {
        let (n, w) = sample();
        let dot = to_dot(&n, &w, &[]);
        assert!(dot.starts_with("digraph \"causeway\" {"));
        assert!(dot.trim_end().ends_with('}'));
        for node in ["\"A\";", "\"B\";", "\"C\";"] {
            assert!(dot.contains(node), "{dot}");
        }
        assert!(
            dot.contains("\"A\" -> \"B\" [label=\"1.50\", color=\"#1f77b4\""),
            "{dot}"
        );
        assert!(
            dot.contains("\"B\" -> \"C\" [label=\"-0.250\", color=\"#d62728\""),
            "{dot}"
        );
        assert!(dot.contains("penwidth=4.00"));
        assert_eq!(dot.matches("->").count(), 2);
        assert!(!dot.contains("dir=none"));
    }

    #[test]
    fn dot_undirected_pairs_appear_once_without_arrow() {
        let w = DMatrix::from_row_slice(3, 3, &[0.0, 0.7, 0.0, 0.7, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let dot = to_dot(
            &names(&["A", "B", "C"]),
            &w,
            &[(1, 0), (0, 1), (2, 1), (5, 0), (2, 2)],
        );
        assert!(dot.contains("\"A\" -> \"B\" [label=\"0.700\""), "{dot}");
        assert!(dot.contains("\"B\" -> \"C\" [label=\"0\""), "{dot}");
        assert_eq!(dot.matches("->").count(), 2);
        assert_eq!(dot.matches("dir=none").count(), 2);
    }

    #[test]
    fn dot_escapes_names() {
        let n = names(&["say \"hi\"", "a,b", "line\nbreak", "back\\slash"]);
        let w = DMatrix::from_element(4, 4, 1.0);
        let dot = to_dot(&n, &w, &[]);
        assert!(dot.contains("\"say \\\"hi\\\"\""), "{dot}");
        assert!(dot.contains("\"a,b\""));
        assert!(dot.contains("\"line\\nbreak\""));
        assert!(dot.contains("\"back\\\\slash\""));
        // Every statement stays on one line: header, node defaults, 4 nodes, 12 edges, close.
        assert_eq!(dot.lines().count(), 2 + 4 + 12 + 1);
    }

    #[test]
    fn json_structure_and_escaping() {
        let (mut n, w) = sample();
        n[0] = "quote\" back\\ nl\n tab\t bell\u{7}".to_string();
        let json = to_json(&n, &w, &[(2, 0)]);
        assert!(json_is_balanced(&json), "{json}");
        assert!(json.starts_with("{\"nodes\":["));
        assert!(
            json.contains("{\"id\":0,\"name\":\"quote\\\" back\\\\ nl\\n tab\\t bell\\u0007\"}")
        );
        assert!(json.contains("{\"id\":2,\"name\":\"C\"}"));
        assert!(json.contains("{\"source\":0,\"target\":1,\"weight\":1.5,\"directed\":true}"));
        assert!(json.contains("{\"source\":1,\"target\":2,\"weight\":-0.25,\"directed\":true}"));
        assert!(json.contains("{\"source\":0,\"target\":2,\"weight\":0,\"directed\":false}"));
        assert_eq!(json.matches("\"source\"").count(), 3);
    }

    #[test]
    fn json_skips_non_finite_and_handles_empty() {
        let w = DMatrix::from_row_slice(2, 2, &[0.0, f64::NAN, f64::INFINITY, 0.0]);
        let json = to_json(&names(&["A", "B"]), &w, &[]);
        assert!(json_is_balanced(&json));
        assert!(!json.contains("NaN") && !json.contains("inf"));
        assert!(json.contains("\"edges\":[\n\n]"));

        let empty = to_json(&[], &DMatrix::zeros(0, 0), &[]);
        assert!(json_is_balanced(&empty));
        assert_eq!(empty, "{\"nodes\":[\n\n],\"edges\":[\n\n]}\n");
        assert!(json_is_balanced(&to_dot(&[], &DMatrix::zeros(0, 0), &[])));
    }

    #[test]
    fn csv_has_header_and_round_trips_numbers() {
        let values = [
            0.0,
            1.5,
            -1e-7,
            0.1 + 0.2,
            0.0,
            -2.0,
            1e300,
            1.0 / 3.0,
            -0.0,
        ];
        let w = DMatrix::from_row_slice(3, 3, &values);
        let n = names(&["plain", "with,comma", "with \"quote\""]);
        let csv = to_adjacency_csv(&n, &w);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], ",plain,\"with,comma\",\"with \"\"quote\"\"\"");
        for (i, line) in lines[1..].iter().enumerate() {
            let fields = csv_split(line);
            assert_eq!(fields.len(), 4);
            assert_eq!(fields[0], n[i]);
            for j in 0..3 {
                let parsed: f64 = fields[j + 1].parse().unwrap();
                assert_eq!(parsed, w[(i, j)], "row {i} col {j}: {}", fields[j + 1]);
            }
        }
        assert_eq!(lines[1], "plain,0,1.5,-1e-7");
    }

    #[test]
    fn csv_quotes_newlines_and_tolerates_mismatched_sizes() {
        let csv = to_adjacency_csv(&names(&["a\nb"]), &DMatrix::from_element(2, 3, 2.0));
        // Two nodes (the matrix's square part), the second named by default.
        assert!(
            csv.starts_with(",\"a\nb\",X2\n\"a\nb\",2,2\nX2,2,2\n"),
            "{csv}"
        );
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant3(1.23456), "1.23");
        assert_eq!(significant3(-0.012345), "-0.0123");
        assert_eq!(significant3(123.456), "123");
        assert_eq!(significant3(9.996), "10.0");
        assert_eq!(significant3(12345.0), "1.23e4");
        assert_eq!(significant3(0.00123), "0.00123");
        assert_eq!(significant3(1.5e-7), "1.50e-7");
        assert_eq!(significant3(0.0), "0");
    }
}
