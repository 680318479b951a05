//! Disclosure control: counts below a threshold are withheld (primary
//! suppression), and so are enough other counts that no withheld count can
//! be recovered by subtraction from the totals (complementary suppression).
//!
//! A one-way table is one line: its cells add up to the total, so a line
//! must never have exactly one withheld entry. Nor may its withheld cells
//! all be 1: a reader knows a listed value counts someone (zeros are shown),
//! so withheld cells that add up to as many victims as there are of them are
//! each 1. A two-way table with margins
//! is a network: rows and columns (the margins included) are nodes, each
//! withheld entry an edge, and a withheld entry is recoverable exactly when
//! its edge is a bridge (no cycle of withheld entries passes through it).
//! Each bridge is closed by withholding the cheapest rectangle through it.

/// Cells small enough to identify people: more than zero, fewer than `threshold`.
fn sensitive(count: u64, threshold: u64) -> bool {
    count > 0 && count < threshold
}

/// Suppression for one line of cells and its total: (withheld cells, total withheld).
/// The total is withheld when it is small itself, or when no shown cell is
/// left to protect the withheld ones with.
pub fn suppress_line(cells: &[u64], total: u64, threshold: u64) -> (Vec<bool>, bool) {
    let mut hidden: Vec<bool> = cells.iter().map(|&c| sensitive(c, threshold)).collect();
    let mut total_hidden = sensitive(total, threshold);
    while !total_hidden && pinned(cells, &hidden) {
        // The smallest shown non-zero cell; failing that, the total.
        let partner = (0..cells.len())
            .filter(|&i| !hidden[i] && cells[i] > 0)
            .min_by_key(|&i| cells[i]);
        match partner {
            Some(i) => hidden[i] = true,
            None => total_hidden = true,
        }
    }
    (hidden, total_hidden)
}

/// Whether a reader who knows the line's sum can tell the withheld cells'
/// counts: one withheld cell is the difference, and withheld cells that
/// are all 1 add up to no more than the least they can be.
fn pinned(cells: &[u64], hidden: &[bool]) -> bool {
    let withheld: Vec<u64> = (0..cells.len())
        .filter(|&i| hidden[i])
        .map(|i| cells[i])
        .collect();
    withheld.len() == 1 || (withheld.len() > 1 && withheld.iter().all(|&c| c == 1))
}

/// Suppression for a table whose last row and last column are its margins
/// (the bottom-right entry the grand total). Returns the withheld entries.
pub fn suppress_grid(table: &[Vec<u64>], threshold: u64) -> Vec<Vec<bool>> {
    let rows = table.len();
    let columns = table.first().map_or(0, Vec::len);
    let mut hidden: Vec<Vec<bool>> = table
        .iter()
        .map(|row| row.iter().map(|&c| sensitive(c, threshold)).collect())
        .collect();
    // Withholding an entry costs its count; a zero is a weak complement (a
    // reader may guess it), so it is used only when nothing else closes the cycle.
    let cost = |hidden: &[Vec<bool>], r: usize, c: usize| -> u64 {
        match (hidden[r][c], table[r][c]) {
            (true, _) => 0,
            (false, 0) => 1 << 40,
            (false, count) => count,
        }
    };
    while let Some((r, c)) = first_bridge(&hidden) {
        let best = (0..rows)
            .filter(|&r2| r2 != r)
            .flat_map(|r2| (0..columns).filter(|&c2| c2 != c).map(move |c2| (r2, c2)))
            .min_by_key(|&(r2, c2)| {
                cost(&hidden, r, c2) + cost(&hidden, r2, c) + cost(&hidden, r2, c2)
            });
        let Some((r2, c2)) = best else {
            // A single row or column: nothing can hide this entry but itself.
            break;
        };
        hidden[r][c2] = true;
        hidden[r2][c] = true;
        hidden[r2][c2] = true;
    }
    hidden
}

/// A withheld entry whose edge is a bridge in the row–column graph of
/// withheld entries, if any.
fn first_bridge(hidden: &[Vec<bool>]) -> Option<(usize, usize)> {
    let rows = hidden.len();
    let columns = hidden.first().map_or(0, Vec::len);
    let edges: Vec<(usize, usize)> = (0..rows)
        .flat_map(|r| (0..columns).map(move |c| (r, c)))
        .filter(|&(r, c)| hidden[r][c])
        .collect();
    // Nodes: rows 0..rows, then columns rows..rows+columns.
    edges.iter().copied().find(|&(r, c)| {
        let mut reached = vec![false; rows + columns];
        let mut stack = vec![r];
        reached[r] = true;
        while let Some(node) = stack.pop() {
            for &(er, ec) in &edges {
                if (er, ec) == (r, c) {
                    continue;
                }
                let other = if node == er {
                    rows + ec
                } else if node == rows + ec {
                    er
                } else {
                    continue;
                };
                if !reached[other] {
                    reached[other] = true;
                    stack.push(other);
                }
            }
        }
        !reached[rows + c]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The withheld entries a reader can recover exactly: an attacker's view,
    /// independent of the graph argument above. The table's equations (each
    /// row and each column adds up to its margin) restricted to the withheld
    /// unknowns; unknown `e` is determined iff removing its column lowers the
    /// rank of the system.
    fn recoverable(hidden: &[Vec<bool>]) -> Vec<(usize, usize)> {
        let rows = hidden.len();
        let columns = hidden[0].len();
        let unknowns: Vec<(usize, usize)> = (0..rows)
            .flat_map(|r| (0..columns).map(move |c| (r, c)))
            .filter(|&(r, c)| hidden[r][c])
            .collect();
        // Coefficient of entry (r, c) in each equation: +1 as a body cell, -1 as the margin.
        let mut equations: Vec<Vec<f64>> = Vec::new();
        for r in 0..rows - 1 {
            equations.push(
                unknowns
                    .iter()
                    .map(|&(ur, uc)| match (ur == r, uc == columns - 1) {
                        (true, false) => 1.0,
                        (true, true) => -1.0,
                        _ => 0.0,
                    })
                    .collect(),
            );
        }
        for c in 0..columns {
            equations.push(
                unknowns
                    .iter()
                    .map(|&(ur, uc)| match (uc == c, ur == rows - 1) {
                        (true, false) => 1.0,
                        (true, true) => -1.0,
                        _ => 0.0,
                    })
                    .collect(),
            );
        }
        let full = rank(equations.clone());
        (0..unknowns.len())
            .filter(|&e| {
                let without = equations
                    .iter()
                    .map(|eq| {
                        eq.iter()
                            .enumerate()
                            .filter(|&(i, _)| i != e)
                            .map(|(_, &v)| v)
                            .collect()
                    })
                    .collect();
                rank(without) < full
            })
            .map(|e| unknowns[e])
            .collect()
    }

    fn rank(mut matrix: Vec<Vec<f64>>) -> usize {
        let columns = matrix.first().map_or(0, Vec::len);
        let mut rank = 0;
        for c in 0..columns {
            let Some(pivot) = (rank..matrix.len()).find(|&r| matrix[r][c].abs() > 1e-9) else {
                continue;
            };
            matrix.swap(rank, pivot);
            let pivot_row = matrix[rank].clone();
            for (r, row) in matrix.iter_mut().enumerate() {
                if r != rank && row[c].abs() > 1e-9 {
                    let factor = row[c] / pivot_row[c];
                    row.iter_mut()
                        .zip(&pivot_row)
                        .for_each(|(value, pivot)| *value -= factor * pivot);
                }
            }
            rank += 1;
        }
        rank
    }

    /// Adds margins to a body of cells.
    fn with_margins(body: &[Vec<u64>]) -> Vec<Vec<u64>> {
        let mut table: Vec<Vec<u64>> = body
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.push(row.iter().sum());
                row
            })
            .collect();
        let totals: Vec<u64> = (0..table[0].len())
            .map(|c| table.iter().map(|row| row[c]).sum())
            .collect();
        table.push(totals);
        table
    }

    #[test]
    fn a_single_small_cell_in_a_line_gets_a_partner() {
        let (hidden, total) = suppress_line(&[120, 3, 40, 0, 17], 180, 5);
        assert_eq!(hidden, [false, true, false, false, true]);
        assert!(!total);
        // Two small cells already protect each other.
        let (hidden, _) = suppress_line(&[120, 3, 2, 40], 165, 5);
        assert_eq!(hidden, [false, true, true, false]);
        // Nothing small: nothing withheld.
        assert_eq!(suppress_line(&[9, 12], 21, 5), (vec![false, false], false));
        // A small cell whose only partners are zeros: the total goes.
        assert_eq!(
            suppress_line(&[0, 3, 0], 3, 5),
            (vec![false, true, false], true)
        );
        // Two withheld 1s are each 1: a third cell joins them.
        let (hidden, total) = suppress_line(&[50, 1, 1, 30], 82, 5);
        assert_eq!(hidden, [false, true, true, true]);
        assert!(!total);
        // Nothing left to join them: the total goes too.
        assert_eq!(suppress_line(&[1, 1], 2, 2), (vec![true, true], true));
    }

    #[test]
    fn no_withheld_cell_of_a_two_way_table_can_be_recovered() {
        let bodies: Vec<Vec<Vec<u64>>> = vec![
            vec![vec![20, 3, 14], vec![11, 30, 9], vec![8, 12, 25]],
            vec![vec![1, 50, 60, 7], vec![40, 2, 33, 18], vec![0, 0, 4, 90]],
            vec![vec![2, 0], vec![0, 90]],
            vec![vec![100, 200, 300], vec![50, 60, 70]],
        ];
        // The attacker finds a lone withheld cell, and a rectangle defeats it.
        let mut lone = vec![vec![false; 4]; 4];
        lone[0][1] = true;
        assert_eq!(recoverable(&lone), [(0, 1)]);
        for (r, c) in [(0, 2), (1, 1), (1, 2)] {
            lone[r][c] = true;
        }
        assert_eq!(recoverable(&lone), []);
        for body in bodies {
            let table = with_margins(&body);
            let hidden = suppress_grid(&table, 5);
            for (r, row) in table.iter().enumerate() {
                for (c, &count) in row.iter().enumerate() {
                    if sensitive(count, 5) {
                        assert!(hidden[r][c], "small cell ({r}, {c}) shown in {table:?}");
                    }
                }
            }
            assert_eq!(
                recoverable(&hidden),
                vec![],
                "recoverable cells in {table:?}: {hidden:?}"
            );
        }
    }

    #[test]
    fn tables_without_small_cells_are_untouched() {
        let table = with_margins(&[vec![100, 200, 300], vec![50, 60, 70]]);
        let hidden = suppress_grid(&table, 5);
        assert!(hidden.iter().flatten().all(|&h| !h));
    }
}
