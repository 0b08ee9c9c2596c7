//! hf-relay-pages OLD_DIR NEW_DIR: for each Parquet file of NEW_DIR that is not in OLD_DIR
//! byte for byte, the bytes of its data pages not found byte-identical among the data pages of
//! the files of OLD_DIR; dictionary pages and footers count as new.
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

fn pages(path: &std::path::Path) -> (Vec<Vec<u8>>, u64) {
    let f = std::fs::File::open(path).unwrap();
    let size = f.metadata().unwrap().len();
    let r = SerializedFileReader::new_with_options(
        f,
        ReadOptionsBuilder::new().with_page_index().build(),
    )
    .unwrap();
    let meta = r.metadata();
    let mut out = Vec::new();
    let mut file = std::fs::File::open(path).unwrap();
    for rg in 0..meta.num_row_groups() {
        let pi = meta.page_index_for_row_group(rg);
        for c in 0..meta.row_group(rg).num_columns() {
            for loc in pi.page_locations(c).unwrap() {
                let mut buf = vec![0u8; loc.compressed_page_size as usize];
                file.seek(SeekFrom::Start(loc.offset as u64)).unwrap();
                file.read_exact(&mut buf).unwrap();
                out.push(buf);
            }
        }
    }
    (out, size)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let list = |d: &str| {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        v.sort();
        v
    };
    let mut old: HashSet<Vec<u8>> = HashSet::new();
    let mut old_files = HashSet::new();
    for p in list(&a[1]) {
        old_files.insert(std::fs::read(&p).unwrap());
        for pg in pages(&p).0 {
            old.insert(pg);
        }
    }
    let (mut total_new, mut changed_size) = (0u64, 0u64);
    for p in list(&a[2]) {
        if old_files.contains(&std::fs::read(&p).unwrap()) {
            continue;
        }
        let (pg, size) = pages(&p);
        let paged: u64 = pg.iter().map(|x| x.len() as u64).sum();
        let new: u64 = pg
            .iter()
            .filter(|x| !old.contains(*x))
            .map(|x| x.len() as u64)
            .sum();
        // bytes outside data pages (dictionary pages, footer) count as new
        total_new += new + (size - paged);
        changed_size += size;
        println!(
            "{}: size {} new-data-page bytes {} other bytes {}",
            p.display(),
            size,
            new,
            size - paged
        );
    }
    println!(
        "changed files {} bytes; not found among old pages: {} bytes ({:.1}%)",
        changed_size,
        total_new,
        100.0 * total_new as f64 / changed_size.max(1) as f64
    );
}
