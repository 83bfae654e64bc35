/// A bordered box with a title, cleared inside.
enum Frame {
    static func draw(title: String, in rect: Rect, glyphs: GlyphSet, into screen: inout Screen) {
        screen.fill(rect)
        let c = glyphs.corners
        screen.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: glyphs.horizontal, style: .header)
        screen.fill(Rect(x: rect.x, y: rect.maxY - 1, width: rect.width, height: 1), with: glyphs.horizontal, style: .header)
        screen.fill(Rect(x: rect.x, y: rect.y, width: 1, height: rect.height), with: glyphs.vertical, style: .header)
        screen.fill(Rect(x: rect.maxX - 1, y: rect.y, width: 1, height: rect.height), with: glyphs.vertical, style: .header)
        screen.write(String(c[0]), x: rect.x, y: rect.y, style: .header)
        screen.write(String(c[1]), x: rect.maxX - 1, y: rect.y, style: .header)
        screen.write(String(c[2]), x: rect.x, y: rect.maxY - 1, style: .header)
        screen.write(String(c[3]), x: rect.maxX - 1, y: rect.maxY - 1, style: .header)
        screen.write(" \(title) ", x: rect.x + 2, y: rect.y, style: .focusedHeader, clip: rect.inset(by: 0).droppingLeft(1).left(rect.width - 2))
    }
}
