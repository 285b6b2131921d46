//! XML documents for awsQuery responses and restXml bodies: a small element tree for reading, a
//! string writer for rendering, and the shape-guided mapping between XML and [`Value`].

use super::scalar;
use crate::error::AwsError;
use crate::shape::{Member, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use crate::types::Value;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Map;

/// One parsed XML element (namespaces are dropped: AWS documents are matched by local name).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn malformed(detail: impl std::fmt::Display) -> AwsError {
    AwsError::bad_request(
        "MalformedXML",
        format!("The XML you provided was not well-formed or did not validate against our published schema ({detail})"),
    )
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

/// Parses a whole document into its root element. Bounded by the body size the caller accepted.
pub fn parse(bytes: &[u8]) -> Result<Element, AwsError> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(start) => {
                if stack.len() > 64 {
                    return Err(malformed("nested too deeply"));
                }
                stack.push(start_element(&start)?);
            }
            Event::Empty(start) => {
                let element = start_element(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let top = stack.last_mut().ok_or_else(|| malformed("reference outside the root"))?;
                match r.resolve_char_ref().map_err(malformed)? {
                    Some(c) => top.text.push(c),
                    None => {
                        let name = r.xml10_content();
                        let c = match name.as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => return Err(malformed(format!("unknown entity &{other};"))),
                        };
                        top.text.push(c);
                    }
                }
            }
            Event::Eof => return Err(malformed("unexpected end of document")),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

fn start_element(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, AwsError> {
    let mut element = Element { name: local(start.name().as_ref()), ..Default::default() };
    for attr in start.attributes() {
        let attr = attr.map_err(malformed)?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(malformed)?.into_owned();
        element.attributes.push((local(key), value));
    }
    Ok(element)
}

/// Converts an element to the [`Value`] of a shape (the element is the shape's own node).
pub fn element_to_value(model: &ServiceModel, shape: ShapeId, element: &Element) -> Result<Value, AwsError> {
    match &model.shape(shape).kind {
        ShapeKind::Structure(st) => {
            let mut out = Map::new();
            for member in st.members {
                if let Some(v) = member_from_element(model, member, element)? {
                    out.insert(member.name.to_owned(), v);
                }
            }
            Ok(Value::Object(out))
        }
        ShapeKind::List(list) => {
            let item_name = if list.member_name.is_empty() { "member" } else { list.member_name };
            let items = element.children.iter().filter(|c| c.name == item_name);
            Ok(Value::Array(items.map(|c| element_to_value(model, list.member, c)).collect::<Result<_, _>>()?))
        }
        ShapeKind::Map(map) => {
            let mut out = Map::new();
            for entry in element.children.iter().filter(|c| c.name == "entry") {
                let (k, v) = map_entry(model, map, entry)?;
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        _ => scalar::from_text(model, shape, &element.text, TimestampFormat::Iso8601),
    }
}

fn map_entry(model: &ServiceModel, map: &crate::shape::Map, entry: &Element) -> Result<(String, Value), AwsError> {
    let key_name = if map.key_name.is_empty() { "key" } else { map.key_name };
    let value_name = if map.value_name.is_empty() { "value" } else { map.value_name };
    let key = entry.child(key_name).map(|k| k.text.clone()).unwrap_or_default();
    let value = match entry.child(value_name) {
        Some(v) => element_to_value(model, map.value, v)?,
        None => Value::Null,
    };
    Ok((key, value))
}

/// Reads one member of a structure from the structure's element.
fn member_from_element(model: &ServiceModel, member: &Member, parent: &Element) -> Result<Option<Value>, AwsError> {
    let name = member.wire_name();
    if member.xml_attribute {
        // Attributes are kept by local name (`xsi:type` arrives as `type`).
        let local = name.rsplit(':').next().unwrap_or(name);
        return match parent.attributes.iter().find(|(k, _)| k == local) {
            Some((_, v)) => Ok(Some(scalar::from_text(model, member.shape, v, TimestampFormat::Iso8601)?)),
            None => Ok(None),
        };
    }
    let shape = model.shape(member.shape);
    let flattened = member.flattened
        || matches!(&shape.kind, ShapeKind::List(l) if l.flattened)
        || matches!(&shape.kind, ShapeKind::Map(m) if m.flattened);
    if flattened {
        match &shape.kind {
            ShapeKind::List(list) => {
                let items: Vec<Value> = parent
                    .children
                    .iter()
                    .filter(|c| c.name == name)
                    .map(|c| element_to_value(model, list.member, c))
                    .collect::<Result<_, _>>()?;
                return Ok((!items.is_empty()).then_some(Value::Array(items)));
            }
            ShapeKind::Map(map) => {
                let mut out = Map::new();
                for entry in parent.children.iter().filter(|c| c.name == name) {
                    let (k, v) = map_entry(model, map, entry)?;
                    out.insert(k, v);
                }
                return Ok((!out.is_empty()).then_some(Value::Object(out)));
            }
            _ => {}
        }
    }
    match parent.child(name) {
        Some(child) => {
            let format = member.timestamp_format.unwrap_or(TimestampFormat::Iso8601);
            match &shape.kind {
                ShapeKind::Structure(_) | ShapeKind::List(_) | ShapeKind::Map(_) => {
                    Ok(Some(element_to_value(model, member.shape, child)?))
                }
                _ => Ok(Some(scalar::from_text(model, member.shape, &child.text, format)?)),
            }
        }
        None => Ok(None),
    }
}

/// An XML writer that renders [`Value`]s by their shapes.
pub struct XmlWriter<'m> {
    pub model: &'m ServiceModel,
    pub out: String,
}

/// Escapes text for element content and attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

impl<'m> XmlWriter<'m> {
    pub fn new(model: &'m ServiceModel) -> Self {
        XmlWriter { model, out: String::with_capacity(256) }
    }

    /// `<?xml …?>` declaration.
    pub fn declaration(&mut self) {
        self.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }

    pub fn open(&mut self, name: &str, xmlns: &str) {
        self.out.push('<');
        self.out.push_str(name);
        if !xmlns.is_empty() {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(xmlns);
            self.out.push('"');
        }
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`.
    pub fn text_element(&mut self, name: &str, text: &str) {
        self.open(name, "");
        escape_into(&mut self.out, text);
        self.close(name);
    }

    /// Writes a document whose root holds a structure's members. A structure whose only written
    /// member is a scalar named like the root is that element itself (S3's
    /// `<LocationConstraint>eu-west-1</LocationConstraint>`).
    pub fn root_members(
        &mut self,
        root: &str,
        xmlns: &str,
        shape: ShapeId,
        value: &Value,
        skip: impl Fn(&Member) -> bool,
    ) {
        if let ShapeKind::Structure(st) = &self.model.shape(shape).kind {
            let mut written = st.members.iter().filter(|m| !m.xml_attribute && !skip(m));
            if let (Some(only), None) = (written.next(), written.next())
                && only.wire_name() == root
                && !matches!(
                    self.model.shape(only.shape).kind,
                    ShapeKind::Structure(_) | ShapeKind::List(_) | ShapeKind::Map(_)
                )
            {
                let v = value.get(only.name).filter(|v| !v.is_null());
                let text = v.map(|v| scalar::to_text(self.model, only.shape, v, TimestampFormat::Iso8601));
                self.open(root, xmlns);
                escape_into(&mut self.out, text.as_deref().unwrap_or(""));
                self.close(root);
                return;
            }
        }
        self.open(root, xmlns);
        self.members(shape, value, skip);
        self.close(root);
    }

    /// Writes the members of a structure value (not its own element), skipping `skip`.
    pub fn members(&mut self, shape: ShapeId, value: &Value, skip: impl Fn(&Member) -> bool) {
        let ShapeKind::Structure(st) = &self.model.shape(shape).kind else { return };
        let Some(obj) = value.as_object() else { return };
        for member in st.members {
            if member.xml_attribute || skip(member) {
                continue;
            }
            if let Some(v) = obj.get(member.name).filter(|v| !v.is_null()) {
                self.member(member, v);
            }
        }
    }

    fn attributes_of(&mut self, shape: ShapeId, value: &Value) {
        let ShapeKind::Structure(st) = &self.model.shape(shape).kind else { return };
        let Some(obj) = value.as_object() else { return };
        for member in st.members.iter().filter(|m| m.xml_attribute) {
            if let Some(v) = obj.get(member.name).filter(|v| !v.is_null()) {
                // A prefixed attribute needs its prefix declared (S3's `xsi:type` on grantees).
                if member.wire_name().starts_with("xsi:") {
                    self.out.push_str(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"");
                }
                self.out.push(' ');
                self.out.push_str(member.wire_name());
                self.out.push_str("=\"");
                let text = scalar::to_text(self.model, member.shape, v, TimestampFormat::Iso8601);
                escape_into(&mut self.out, &text);
                self.out.push('"');
            }
        }
    }

    /// Writes one member (its element, or its repeated elements when flattened).
    pub fn member(&mut self, member: &Member, value: &Value) {
        let shape = self.model.shape(member.shape);
        let name = member.wire_name();
        match &shape.kind {
            ShapeKind::List(list) if member.flattened || list.flattened => {
                for item in value.as_array().into_iter().flatten() {
                    self.node(name, member.xml_namespace, list.member, item, None);
                }
            }
            ShapeKind::Map(map) if member.flattened || map.flattened => {
                for (k, v) in value.as_object().into_iter().flatten() {
                    self.open(name, "");
                    self.map_entry(map, k, v);
                    self.close(name);
                }
            }
            _ => self.node(name, member.xml_namespace, member.shape, value, member.timestamp_format),
        }
    }

    fn map_entry(&mut self, map: &crate::shape::Map, key: &str, value: &Value) {
        let key_name = if map.key_name.is_empty() { "key" } else { map.key_name };
        let value_name = if map.value_name.is_empty() { "value" } else { map.value_name };
        self.text_element(key_name, key);
        self.node(value_name, "", map.value, value, None);
    }

    /// Writes `<name>` holding a value of `shape`.
    pub fn node(&mut self, name: &str, xmlns: &str, shape: ShapeId, value: &Value, format: Option<TimestampFormat>) {
        match &self.model.shape(shape).kind {
            ShapeKind::Structure(_) => {
                self.out.push('<');
                self.out.push_str(name);
                if !xmlns.is_empty() {
                    self.out.push_str(" xmlns=\"");
                    self.out.push_str(xmlns);
                    self.out.push('"');
                }
                self.attributes_of(shape, value);
                self.out.push('>');
                self.members(shape, value, |_| false);
                self.close(name);
            }
            ShapeKind::List(list) => {
                let item_name = if list.member_name.is_empty() { "member" } else { list.member_name };
                self.open(name, xmlns);
                for item in value.as_array().into_iter().flatten() {
                    self.node(item_name, "", list.member, item, None);
                }
                self.close(name);
            }
            ShapeKind::Map(map) => {
                self.open(name, xmlns);
                for (k, v) in value.as_object().into_iter().flatten() {
                    self.open("entry", "");
                    self.map_entry(map, k, v);
                    self.close("entry");
                }
                self.close(name);
            }
            _ => {
                let text = scalar::to_text(self.model, shape, value, format.unwrap_or(TimestampFormat::Iso8601));
                self.open(name, xmlns);
                escape_into(&mut self.out, &text);
                self.close(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_entities_and_attributes() {
        let doc = br#"<?xml version="1.0"?><a xmlns="ns"><b x:type="t" xmlns:x="y">1 &lt; 2 &#x41;</b><c/><![CDATA[<raw>]]></a>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].text, "1 < 2 A");
        assert_eq!(root.children[0].attributes, vec![("type".to_owned(), "t".to_owned())]);
        assert_eq!(root.text, "<raw>");
    }

    #[test]
    fn malformed_documents_are_malformed_xml_errors() {
        for doc in [&b"<a><b></a>"[..], b"<a>", b"", b"not xml", b"<a>&bogus;</a>", b"\xff\xfe"] {
            let err = parse(doc).unwrap_err();
            assert_eq!(err.code, "MalformedXML", "{:?}", String::from_utf8_lossy(doc));
            assert_eq!(err.status, 400);
        }
    }

    #[test]
    fn escapes_markup() {
        let mut s = String::new();
        escape_into(&mut s, "<a href=\"x\">&'");
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    }
}
