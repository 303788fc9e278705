//! Keyset pagination over ascending ids: stable under concurrent inserts, cheap at any depth.

/// One page request: rows with id greater than `after`, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Exclusive lower bound on the id (the previous page's last id).
    pub after: i64,
    /// Rows wanted; one more is fetched to learn whether another page follows.
    pub limit: i64,
}

impl Page {
    /// The first page of `limit` rows.
    pub fn first(limit: i64) -> Self {
        Self { after: 0, limit }
    }

    /// How many rows a query should fetch.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Trims the extra row and returns the rows with the id to continue after, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit.max(0) as usize);
        let next = if more { rows.last().map(id_of) } else { None };
        (rows, next)
    }
}
