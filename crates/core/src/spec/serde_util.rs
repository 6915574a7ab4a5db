//! Serde helpers of the spec: `eval_subset`'s "count or `full`", and the field names of
//! a struct as serde's derive lists them.

/// Serde for `eval_subset`: a count, or `"full"` (or null) for none.
pub(super) mod count_or_full {
    use serde::Deserializer;
    use serde::de::{Error, Visitor};

    /// Reads a whole number as `Some`, `"full"` or null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_any(CountOrFull)
    }

    struct CountOrFull;

    impl<'de> Visitor<'de> for CountOrFull {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number of examples, or \"full\"")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Option<usize>, E> {
            usize::try_from(v).map(Some).map_err(|_| E::custom(format!("{v} is too large")))
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Option<usize>, E> {
            u64::try_from(v)
                .map_err(|_| {
                    E::custom(format!("expected a whole number of examples or \"full\", got {v}"))
                })
                .and_then(|v| self.visit_u64(v))
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Option<usize>, E> {
            match v {
                "full" => Ok(None),
                _ => Err(E::custom(format!(
                    "expected a whole number of examples or \"full\", got \"{v}\""
                ))),
            }
        }

        fn visit_unit<E: Error>(self) -> Result<Option<usize>, E> {
            Ok(None)
        }

        fn visit_none<E: Error>(self) -> Result<Option<usize>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_any(CountOrFull)
        }
    }
}

/// The field names of the struct `T` in declaration order, as serde's derive hands them
/// to `Deserializer::deserialize_struct`: a deserializer that only records that list
/// (and then declines to produce a value). Empty for a type that is not a struct.
pub fn serde_field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    let mut names = None;
    // The error is the point: the deserializer stops as soon as it has the names.
    let _ = T::deserialize(FieldNames(&mut names));
    names.unwrap_or(&[])
}

/// A deserializer that records the field names of the struct asked of it.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only field names are read"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("only field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
