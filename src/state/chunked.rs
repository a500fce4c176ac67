//! A list grown a chunk at a time. A `Vec` doubles when full, so up to half
//! of it is spare room: at 100,000 requests the pack's table of ~800,000
//! objects had room for 1,048,576 (8 MB unused). This one's spare room is
//! at most one chunk. The first chunk grows as a `Vec` does, so that the
//! few entries of an everyday commit do not take a whole chunk (98 KB of
//! a commit's tree nodes).

/// Elements a chunk holds.
const CHUNK: usize = 1 << 13;

pub(super) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.chunks.last().map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }

    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(CHUNK) };
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_list_reads_back_what_was_pushed_across_chunks() {
        let mut list = Chunked::default();
        for i in 0..CHUNK * 2 + 3 {
            list.push(i);
        }
        assert_eq!(list.len(), CHUNK * 2 + 3);
        assert_eq!((list[0], list[CHUNK - 1], list[CHUNK], list[CHUNK * 2 + 2]), (0, CHUNK - 1, CHUNK, CHUNK * 2 + 2));
        assert_eq!(list.get(CHUNK * 2 + 3), None);
        assert!((0..list.len()).map(|i| list[i]).eq(0..CHUNK * 2 + 3));
        list[CHUNK] = 7;
        assert_eq!(list.iter_mut().filter(|v| **v == 7).count(), 2);
        assert_eq!(Chunked::<u8>::default().len(), 0);
    }
}
