fn main() -> anyhow::Result<()> {
    let root = workbook::manifest::root()?;
    for ch in workbook::manifest::load(&root)? {
        println!("{:02} {}", ch.number, ch.title);
    }
    Ok(())
}
