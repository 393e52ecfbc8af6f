//! Two traces side by side, lined up by a longest-common-subsequence diff, like `diff -y`: equal
//! lines in both columns, `<` for a line only the expected trace has, `>` for one only yours has,
//! `|` for a line that changed. Runs of equal lines far from any difference are folded.

/// One row of the side-by-side view.
#[derive(Debug, PartialEq, Eq)]
enum Row<'a> {
    Same(&'a str),
    Changed(&'a str, &'a str),
    Left(&'a str),
    Right(&'a str),
}

/// Lines up `a` and `b`.
fn align<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Row<'a>> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut rows = Vec::new();
    let (mut left, mut right): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    let flush = |rows: &mut Vec<Row<'a>>, left: &mut Vec<&'a str>, right: &mut Vec<&'a str>| {
        let pairs = left.len().min(right.len());
        for k in 0..pairs {
            rows.push(Row::Changed(left[k], right[k]));
        }
        rows.extend(left[pairs..].iter().map(|l| Row::Left(l)));
        rows.extend(right[pairs..].iter().map(|r| Row::Right(r)));
        left.clear();
        right.clear();
    };
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            flush(&mut rows, &mut left, &mut right);
            rows.push(Row::Same(a[i]));
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            left.push(a[i]);
            i += 1;
        } else {
            right.push(b[j]);
            j += 1;
        }
    }
    flush(&mut rows, &mut left, &mut right);
    rows
}

/// `s` cut to `width` characters (with `…`), padded to it.
fn fit(s: &str, width: usize) -> String {
    let count = s.chars().count();
    if count <= width {
        format!("{s}{}", " ".repeat(width - count))
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The side-by-side view of `expected` and `actual` in `width` columns, with `context` equal lines
/// kept around each difference.
pub fn side_by_side(expected: &str, actual: &str, width: usize, context: usize) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let rows = align(&a, &b);
    let col = (width.saturating_sub(3) / 2).max(20);
    let near: Vec<bool> = (0..rows.len())
        .map(|k| {
            let lo = k.saturating_sub(context);
            let hi = (k + context + 1).min(rows.len());
            rows[lo..hi].iter().any(|r| !matches!(r, Row::Same(_)))
        })
        .collect();
    let mut out = format!("{} | {}\n", fit("expected", col), "yours");
    out.push_str(&format!("{}-+-{}\n", "-".repeat(col), "-".repeat(col)));
    let mut folded = 0;
    for (row, keep) in rows.iter().zip(&near) {
        if !keep {
            folded += 1;
            continue;
        }
        if folded > 0 {
            out.push_str(&format!("   … {folded} equal lines …\n"));
            folded = 0;
        }
        let line = match row {
            Row::Same(l) => format!("{}   {}", fit(l, col), fit(l, col)),
            Row::Changed(l, r) => format!("{} | {}", fit(l, col), fit(r, col)),
            Row::Left(l) => format!("{} <", fit(l, col)),
            Row::Right(r) => format!("{} > {}", " ".repeat(col), fit(r, col)),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if folded > 0 {
        out.push_str(&format!("   … {folded} equal lines …\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_equal_changed_and_missing_lines() {
        let rows = align(&["a", "b", "c", "d"], &["a", "x", "c", "e", "f"]);
        assert_eq!(
            rows,
            [
                Row::Same("a"),
                Row::Changed("b", "x"),
                Row::Same("c"),
                Row::Changed("d", "e"),
                Row::Right("f")
            ]
        );
        assert_eq!(align(&["a", "b"], &["a"]), [Row::Same("a"), Row::Left("b")]);
    }

    #[test]
    fn far_equal_lines_are_folded() {
        let expected: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let actual = expected.replace("line 15\n", "changed\n");
        let view = side_by_side(&expected, &actual, 60, 2);
        assert!(view.contains("… 13 equal lines …"), "{view}");
        assert!(
            view.contains("line 15") && view.contains("| changed"),
            "{view}"
        );
        assert!(!view.contains("line 3 "), "{view}");
    }
}
