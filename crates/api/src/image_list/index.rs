//! The image list's in-memory index: every space and every repository with a manifest, with
//! the summaries and tag names the list filters and sorts on.
//!
//! A workspace's list is the repositories of the spaces `berth_access::list_sources` admits,
//! so a query walks those spaces' repositories, filters, and keeps the page with a partial
//! sort. Nothing here does I/O: `super::ImageList` loads and refreshes the index from the store.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use berth_access::{list_sources, ListSources, ListedSpace, WorkspaceId};
use berth_store::hosted::Platform;
use berth_store::repositories::{CatalogRepository, CatalogSpace, TagRecord, RECENT_TAGS_KEPT};

/// A space and what the list shows of its registry.
#[derive(Debug, Clone)]
pub struct SpaceEntry {
    pub id: i64,
    pub name: Arc<str>,
    pub public: bool,
    pub registry_id: i64,
    pub registry_name: Arc<str>,
    pub registry_kind: Arc<str>,
    /// `host[:port]` clients pull from, without a scheme.
    pub host: Arc<str>,
    pub registry_owner: Option<WorkspaceId>,
    pub bound: Vec<WorkspaceId>,
}

#[derive(Debug, Clone)]
struct RepositoryEntry {
    id: i64,
    space_id: i64,
    name: Box<str>,
    name_lower: Box<str>,
    tag_count: i64,
    latest_tag: Option<Box<str>>,
    pushed_at: Option<i64>,
    size: Option<i64>,
    pulls: i64,
    description: Box<str>,
    /// The rank of the highest severity the latest tag's last scan found (critical 5 …
    /// unknown 0); `None` when it found nothing or there is no scan.
    severity_rank: Option<u8>,
    /// The newest [`RECENT_TAGS_KEPT`] tags, newest first.
    recent: Box<[RecentTag]>,
}

/// One of a repository's newest tags, compact: a hundred thousand repositories hold three
/// each, so names and platform lists are ids into shared tables and a sha256 digest is bytes.
#[derive(Debug, Clone)]
struct RecentTag {
    name: u32,
    platforms: u32,
    /// When Berth first saw it, for registries that do not tell push times; then
    /// `pushed_at_known` is false and the selector says nothing of it.
    pushed_at: i64,
    pushed_at_known: bool,
    size: i64,
    digest: CompactDigest,
}

#[derive(Debug, Clone)]
enum CompactDigest {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl CompactDigest {
    fn new(digest: &str) -> CompactDigest {
        let mut bytes = [0u8; 32];
        match digest.strip_prefix("sha256:") {
            // Only lowercase hex round-trips; anything else keeps its text.
            Some(hex)
                if !hex.bytes().any(|b| b.is_ascii_uppercase())
                    && hex::decode_to_slice(hex, &mut bytes).is_ok() =>
            {
                CompactDigest::Sha256(bytes)
            }
            _ => CompactDigest::Other(digest.into()),
        }
    }

    fn to_text(&self) -> String {
        match self {
            CompactDigest::Sha256(bytes) => format!("sha256:{}", hex::encode(bytes)),
            CompactDigest::Other(text) => text.to_string(),
        }
    }
}

/// A tag the selector offers, as the index holds it.
#[derive(Debug, Clone)]
pub struct SelectableTag {
    pub name: Arc<str>,
    pub digest: String,
    /// `None` when the registry does not tell push times.
    pub pushed_at: Option<i64>,
    pub size: i64,
    pub platforms: Arc<[Platform]>,
}

/// A repository's newest tags for the selector, or word that the index cannot tell them.
#[derive(Debug, Clone)]
pub enum RecentTags {
    Known(Vec<SelectableTag>),
    /// A tag filter matched fewer of the held tags than asked for while the repository has
    /// more tags than the index holds in full: only the store knows the older matches.
    AskStore,
}

/// Every tag name seen, each once. Lower-case copies sit in one buffer separated by `\n`, so
/// a substring search over a million tags is one vectorised scan instead of a million calls.
/// A needle of three bytes or more is first looked up in a trigram index, which narrows the
/// names to check to those holding its rarest trigrams: a scan of the whole buffer per request
/// cost more than everything else a tag search does.
#[derive(Debug, Default)]
struct TagNames {
    ids: HashMap<Arc<str>, u32>,
    /// Each id's name as written.
    names: Vec<Arc<str>>,
    /// Lower-case names, each followed by `\n`.
    text: Vec<u8>,
    /// Where each id's name starts in `text`; ascending, as ids are handed out in order.
    starts: Vec<u32>,
    /// The ids of the names holding each three-byte run of their lower-case text, ascending
    /// and each once. Names are never forgotten, so the lists only grow at their ends.
    trigrams: HashMap<Trigram, Vec<u32>>,
}

/// Three consecutive bytes of a lower-case name, packed.
type Trigram = u32;

fn trigrams_of(text: &[u8]) -> impl Iterator<Item = Trigram> + '_ {
    text.windows(3)
        .map(|w| u32::from(w[0]) << 16 | u32::from(w[1]) << 8 | u32::from(w[2]))
}

/// Past this many candidates for every byte of the names' text, checking each candidate
/// name costs more than one scan of the text (a candidate is a cache miss; the scan streams).
const CANDIDATES_PER_SCANNED_BYTE: usize = 256;

impl TagNames {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.starts.len() as u32;
        let start = self.text.len();
        self.starts.push(start as u32);
        self.text.extend(name.to_lowercase().bytes());
        for trigram in trigrams_of(&self.text[start..]) {
            let ids = self.trigrams.entry(trigram).or_default();
            // A name holding a trigram twice is listed once.
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        self.text.push(b'\n');
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn name(&self, id: u32) -> &Arc<str> {
        &self.names[id as usize]
    }

    /// The lower-case name of `id`.
    fn lower(&self, id: u32) -> &[u8] {
        let start = self.starts[id as usize] as usize;
        let end = memchr::memchr(b'\n', &self.text[start..]).map_or(self.text.len(), |n| start + n);
        &self.text[start..end]
    }

    /// A bitset over ids of the names containing `needle` (lower case).
    fn matching(&self, needle: &str) -> Vec<u64> {
        let mut bits = vec![0u64; self.starts.len().div_ceil(64)];
        if needle.contains('\n') {
            return bits;
        }
        let needle = needle.as_bytes();
        match self.trigram_candidates(needle) {
            Some(candidates) => {
                // A three-byte needle is its own trigram: every candidate matches.
                let finder = (needle.len() > 3).then(|| memchr::memmem::Finder::new(needle));
                for &id in candidates.iter() {
                    if finder
                        .as_ref()
                        .is_none_or(|f| f.find(self.lower(id)).is_some())
                    {
                        bits[id as usize / 64] |= 1 << (id % 64);
                    }
                }
            }
            None => {
                for offset in memchr::memmem::find_iter(&self.text, needle) {
                    // The name holding this match is the last one starting at or before it.
                    let id = self
                        .starts
                        .partition_point(|&start| start as usize <= offset)
                        - 1;
                    bits[id / 64] |= 1 << (id % 64);
                }
            }
        }
        bits
    }

    /// The ids of the names holding every trigram of `needle` (a superset of the matches,
    /// and exactly them for a three-byte needle), or `None` when the text is cheaper to scan:
    /// the needle is shorter than a trigram, or even its rarest trigrams leave too many names
    /// to check one by one.
    fn trigram_candidates(&self, needle: &[u8]) -> Option<Cow<'_, [u32]>> {
        if needle.len() < 3 {
            return None;
        }
        let mut lists: Vec<&[u32]> = Vec::new();
        for trigram in trigrams_of(needle) {
            match self.trigrams.get(&trigram) {
                Some(ids) => lists.push(ids),
                // No name holds this trigram, so none holds the needle.
                None => return Some(Cow::Borrowed(&[])),
            }
        }
        lists.sort_unstable_by_key(|ids| ids.len());
        let (rarest, others) = lists
            .split_first()
            .expect("a needle of three bytes has a trigram");
        if others.is_empty() {
            return Some(Cow::Borrowed(rarest));
        }
        let mut candidates = Cow::Borrowed(*rarest);
        // Intersecting with a list costs a walk of it, worth it only while it is not much
        // longer than the candidates it narrows.
        for ids in others {
            if ids.len() > candidates.len().saturating_mul(16) {
                break;
            }
            candidates = Cow::Owned(intersect_sorted(&candidates, ids));
        }
        let most = self.text.len() / CANDIDATES_PER_SCANNED_BYTE;
        (candidates.len() <= most).then_some(candidates)
    }
}

/// The ids in both ascending lists.
fn intersect_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut both = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                both.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    both
}

/// A space's repositories and all their tag ids side by side, so a tag search reads one array
/// per space where a vector per repository cost a cache miss each (half of a tag search's
/// time). A repository that leaves leaves a hole, and holes are squeezed out once they
/// outnumber the repositories, so a removal costs a scan of the slots, never a shift of tags.
#[derive(Debug, Default)]
struct SpaceRepositories {
    /// Slots in `ImageListIndex::repositories`, or [`SpaceRepositories::HOLE`].
    slots: Vec<u32>,
    /// Where each entry's tag ids end in `tag_ids`; they start where the previous one's end.
    tag_ends: Vec<u32>,
    /// Tag ids as in [`TagNames`], entry after entry.
    tag_ids: Vec<u32>,
    holes: usize,
}

impl SpaceRepositories {
    const HOLE: u32 = u32::MAX;

    fn push(&mut self, slot: u32, tags: impl IntoIterator<Item = u32>) {
        self.slots.push(slot);
        self.tag_ids.extend(tags);
        self.tag_ends.push(self.tag_ids.len() as u32);
    }

    fn remove(&mut self, slot: u32) {
        let Some(position) = self.slots.iter().position(|&s| s == slot) else {
            return;
        };
        self.slots[position] = Self::HOLE;
        self.holes += 1;
        if self.holes > self.slots.len() - self.holes {
            self.squeeze();
        }
    }

    fn squeeze(&mut self) {
        let mut squeezed = SpaceRepositories::default();
        for (slot, tags) in self.iter() {
            squeezed.push(slot, tags.iter().copied());
        }
        *self = squeezed;
    }

    fn is_empty(&self) -> bool {
        self.slots.len() == self.holes
    }

    /// Each repository's slot and tag ids.
    fn iter(&self) -> impl Iterator<Item = (u32, &[u32])> + '_ {
        let mut start = 0;
        self.slots
            .iter()
            .zip(&self.tag_ends)
            .filter_map(move |(&slot, &end)| {
                let tags = &self.tag_ids[start as usize..end as usize];
                start = end;
                (slot != Self::HOLE).then_some((slot, tags))
            })
    }
}

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    PushedAt,
    Pulls,
    Size,
    /// The highest severity the latest tag's scan found; unscanned and clean ones last.
    Severity,
}

/// Where a page starts: the sort position of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub value: i64,
    pub name: String,
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFilter {
    Public,
    Bound,
    WorkspaceRegistry,
}

/// One list request. `q` and `tag` are matched in lower case.
#[derive(Debug, Clone)]
pub struct ListQuery<'a> {
    pub workspace: WorkspaceId,
    pub q: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub registry: Option<&'a str>,
    pub space: Option<&'a str>,
    /// Only this space, whatever else the workspace sees: the limit of a temporary robot.
    pub only_space: Option<i64>,
    pub visibility: Option<Visibility>,
    pub source: Option<SourceFilter>,
    /// Only repositories whose latest tag's scan found this severity rank or worse.
    pub min_severity: Option<u8>,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<ListCursor>,
    pub limit: usize,
}

/// One row of a workspace's list.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub id: i64,
    pub space: SpaceEntry,
    pub repository: String,
    pub sources: ListSources,
    pub tag_count: i64,
    pub latest_tag: Option<String>,
    pub pushed_at: Option<i64>,
    pub size: Option<i64>,
    pub pulls: i64,
    pub description: String,
    pub cursor: ListCursor,
}

#[derive(Debug, Clone)]
pub struct ListPage {
    pub rows: Vec<ListRow>,
    /// Rows matching the filters across all pages.
    pub total: usize,
    /// Set when more rows follow this page.
    pub next: Option<ListCursor>,
}

/// What [`ImageListIndex::size`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSize {
    pub spaces: usize,
    pub repositories: usize,
    /// Distinct tag names, each interned once however many repositories carry it.
    pub tag_names: usize,
}

#[derive(Debug, Default)]
pub struct ImageListIndex {
    spaces: HashMap<i64, SpaceEntry>,
    /// Space ids by registry id and name, for detail lookups.
    space_ids: HashMap<(i64, Arc<str>), i64>,
    /// Public spaces of platform registries: in every workspace's list.
    public_spaces: Vec<i64>,
    /// Spaces each workspace sees for itself: bound platform spaces and its registries' spaces.
    own_spaces: HashMap<WorkspaceId, Vec<i64>>,
    repositories: Vec<Option<RepositoryEntry>>,
    free_slots: Vec<u32>,
    slot_of: HashMap<i64, u32>,
    space_repositories: HashMap<i64, SpaceRepositories>,
    tag_names: TagNames,
    /// Distinct platform lists of recent tags, each once, and their ids.
    platform_lists: Vec<Arc<[Platform]>>,
    platform_list_ids: HashMap<Arc<[Platform]>, u32>,
}

impl ImageListIndex {
    /// Replaces the spaces and bindings. `host_of` gives the pull host of a registry.
    pub fn set_spaces(
        &mut self,
        spaces: Vec<CatalogSpace>,
        bindings: Vec<(i64, WorkspaceId)>,
        host_of: impl Fn(&CatalogSpace) -> String,
    ) {
        let mut bound: HashMap<i64, Vec<WorkspaceId>> = HashMap::new();
        for (space, workspace) in bindings {
            bound.entry(space).or_default().push(workspace);
        }
        let mut hosts: HashMap<i64, Arc<str>> = HashMap::new();
        let mut names: HashMap<i64, (Arc<str>, Arc<str>)> = HashMap::new();
        self.spaces = spaces
            .into_iter()
            .map(|space| {
                let host = hosts
                    .entry(space.registry_id)
                    .or_insert_with(|| host_of(&space).into())
                    .clone();
                let (registry_name, registry_kind) = names
                    .entry(space.registry_id)
                    .or_insert_with(|| {
                        (
                            space.registry_name.as_str().into(),
                            space.registry_kind.as_str().into(),
                        )
                    })
                    .clone();
                let entry = SpaceEntry {
                    id: space.id,
                    name: space.name.into(),
                    public: space.public,
                    registry_id: space.registry_id,
                    registry_name,
                    registry_kind,
                    host,
                    registry_owner: space.registry_workspace_id,
                    bound: bound.remove(&space.id).unwrap_or_default(),
                };
                (entry.id, entry)
            })
            .collect();
        self.space_ids = self
            .spaces
            .values()
            .map(|s| ((s.registry_id, s.name.clone()), s.id))
            .collect();
        self.public_spaces.clear();
        self.own_spaces.clear();
        for space in self.spaces.values() {
            match space.registry_owner {
                None if space.public => self.public_spaces.push(space.id),
                None => {}
                Some(owner) => self.own_spaces.entry(owner).or_default().push(space.id),
            }
            for workspace in &space.bound {
                self.own_spaces
                    .entry(*workspace)
                    .or_default()
                    .push(space.id);
            }
        }
        // Repositories of spaces that are gone (a deleted workspace registry takes its
        // repositories with it) leave the index too.
        let gone: Vec<i64> = self
            .repositories
            .iter()
            .flatten()
            .filter(|r| !self.spaces.contains_key(&r.space_id))
            .map(|r| r.id)
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    /// Adds, replaces or (when it holds no manifest or has no space) removes a repository.
    pub fn upsert(&mut self, repository: CatalogRepository) {
        self.remove(repository.id);
        let Some(space_id) = repository.space_id else {
            return;
        };
        if repository.artifact_count == 0 {
            return;
        }
        let tags: Vec<u32> = repository
            .tags
            .iter()
            .map(|t| self.tag_names.id(t))
            .collect();
        let recent = repository
            .recent_tags
            .iter()
            .take(RECENT_TAGS_KEPT)
            .map(|tag| self.recent_tag(tag))
            .collect();
        let entry = RepositoryEntry {
            id: repository.id,
            space_id,
            name_lower: repository.name.to_lowercase().into(),
            name: repository.name.into(),
            tag_count: repository.tag_count,
            latest_tag: repository.latest_tag.map(Into::into),
            pushed_at: repository.pushed_at,
            size: repository.latest_size,
            pulls: repository.pulls,
            description: repository.description.into(),
            severity_rank: severity_rank(repository.scan_severity_rank),
            recent,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.repositories[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.repositories.push(Some(entry));
                (self.repositories.len() - 1) as u32
            }
        };
        self.slot_of.insert(repository.id, slot);
        self.space_repositories
            .entry(space_id)
            .or_default()
            .push(slot, tags);
    }

    /// Updates the summary fields (pulls, description, counts) of a repository already in the
    /// index, keeping its tag names; one with no manifest left goes.
    pub fn update_summary(&mut self, summary: CatalogRepository) {
        let Some(&slot) = self.slot_of.get(&summary.id) else {
            return;
        };
        if summary.artifact_count == 0 {
            self.remove(summary.id);
            return;
        }
        if let Some(entry) = self.repositories[slot as usize].as_mut() {
            entry.tag_count = summary.tag_count;
            entry.latest_tag = summary.latest_tag.map(Into::into);
            entry.pushed_at = summary.pushed_at;
            entry.size = summary.latest_size;
            entry.pulls = summary.pulls;
            entry.description = summary.description.into();
            entry.severity_rank = severity_rank(summary.scan_severity_rank);
        }
    }

    /// Removes a repository if present.
    pub fn remove(&mut self, id: i64) {
        let Some(slot) = self.slot_of.remove(&id) else {
            return;
        };
        if let Some(entry) = self.repositories[slot as usize].take() {
            if let Some(repositories) = self.space_repositories.get_mut(&entry.space_id) {
                repositories.remove(slot);
                if repositories.is_empty() {
                    self.space_repositories.remove(&entry.space_id);
                }
            }
        }
        self.free_slots.push(slot);
    }

    fn recent_tag(&mut self, tag: &TagRecord) -> RecentTag {
        let platforms = match self.platform_list_ids.get(tag.platforms.as_slice()) {
            Some(id) => *id,
            None => {
                let id = self.platform_lists.len() as u32;
                let list: Arc<[Platform]> = tag.platforms.clone().into();
                self.platform_lists.push(list.clone());
                self.platform_list_ids.insert(list, id);
                id
            }
        };
        RecentTag {
            name: self.tag_names.id(&tag.name),
            platforms,
            pushed_at: tag.pushed_at,
            pushed_at_known: tag.pushed_at_known,
            size: tag.size,
            digest: CompactDigest::new(&tag.digest),
        }
    }

    /// The newest `count` (at most [`RECENT_TAGS_KEPT`]) tags of repository `id` whose names
    /// contain `tag_filter` (lower case), newest first. `None` when the repository is not in
    /// the index.
    pub fn recent_tags(
        &self,
        id: i64,
        tag_filter: Option<&str>,
        count: usize,
    ) -> Option<RecentTags> {
        let slot = *self.slot_of.get(&id)?;
        let repository = self.repositories[slot as usize].as_ref()?;
        let finder = tag_filter.map(memchr::memmem::Finder::new);
        let picked: Vec<SelectableTag> = repository
            .recent
            .iter()
            .filter(|tag| {
                finder
                    .as_ref()
                    .is_none_or(|f| f.find(self.tag_names.lower(tag.name)).is_some())
            })
            .take(count)
            .map(|tag| SelectableTag {
                name: self.tag_names.name(tag.name).clone(),
                digest: tag.digest.to_text(),
                pushed_at: tag.pushed_at_known.then_some(tag.pushed_at),
                size: tag.size,
                platforms: self.platform_lists[tag.platforms as usize].clone(),
            })
            .collect();
        let holds_every_tag = repository.recent.len() as i64 >= repository.tag_count;
        if picked.len() < count.min(RECENT_TAGS_KEPT) && !holds_every_tag {
            return Some(RecentTags::AskStore);
        }
        Some(RecentTags::Known(picked))
    }

    pub fn repository_count(&self) -> usize {
        self.slot_of.len()
    }

    /// How much the index holds, for metrics.
    pub fn size(&self) -> IndexSize {
        IndexSize {
            spaces: self.spaces.len(),
            repositories: self.slot_of.len(),
            tag_names: self.tag_names.names.len(),
        }
    }

    /// The space `name` of registry `registry_id`, with why `workspace` sees it; `None` when
    /// it does not exist or the workspace does not see it.
    pub fn visible_space(
        &self,
        workspace: WorkspaceId,
        registry_id: i64,
        name: &str,
    ) -> Option<(&SpaceEntry, ListSources)> {
        self.space_ids
            .get(&(registry_id, Arc::from(name)))
            .and_then(|id| self.spaces.get(id))
            .map(|s| (s, sources(s, workspace)))
            .filter(|(_, sources)| sources.any())
    }

    /// The spaces in `workspace`'s list with why it sees each, each once.
    fn visible_spaces(&self, workspace: WorkspaceId) -> Vec<(&SpaceEntry, ListSources)> {
        let own = self.own_spaces.get(&workspace).map(Vec::as_slice);
        let mut ids: Vec<i64> = self
            .public_spaces
            .iter()
            .chain(own.unwrap_or_default())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|id| self.spaces.get(id))
            .map(|s| (s, sources(s, workspace)))
            .filter(|(_, sources)| sources.any())
            .collect()
    }

    /// One page of a workspace's list.
    pub fn list(&self, query: &ListQuery<'_>) -> ListPage {
        let tag_matches = query.tag.map(|t| self.tag_names.matching(t));
        let q_finder = query.q.map(memchr::memmem::Finder::new);
        let mut total = 0usize;
        let mut candidates: Vec<(SortPosition<'_>, u32, ListSources)> = Vec::new();
        for (space, sources) in self.visible_spaces(query.workspace) {
            if !space_passes(space, sources, query) {
                continue;
            }
            let Some(repositories) = self.space_repositories.get(&space.id) else {
                continue;
            };
            for (slot, tags) in repositories.iter() {
                // The tag ids sit beside the slots, so a repository without a matching tag
                // is passed over without reading its entry.
                if let Some(bits) = &tag_matches {
                    let has = tags
                        .iter()
                        .any(|&id| bits[id as usize / 64] & (1 << (id % 64)) != 0);
                    if !has {
                        continue;
                    }
                }
                let Some(repository) = &self.repositories[slot as usize] else {
                    continue;
                };
                if let Some(finder) = &q_finder {
                    if finder.find(repository.name_lower.as_bytes()).is_none() {
                        continue;
                    }
                }
                if let Some(min) = query.min_severity {
                    if repository.severity_rank.is_none_or(|rank| rank < min) {
                        continue;
                    }
                }
                total += 1;
                let position = SortPosition {
                    value: sort_value(repository, query.sort),
                    name: &repository.name,
                    id: repository.id,
                };
                if let Some(after) = &query.after {
                    let ordering = position.cmp_cursor(after);
                    let beyond = if query.descending {
                        ordering == Ordering::Less
                    } else {
                        ordering == Ordering::Greater
                    };
                    if !beyond {
                        continue;
                    }
                }
                candidates.push((position, slot, sources));
            }
        }
        let compare = |a: &(SortPosition<'_>, u32, ListSources),
                       b: &(SortPosition<'_>, u32, ListSources)| {
            let ordering = a.0.cmp(&b.0);
            if query.descending {
                ordering.reverse()
            } else {
                ordering
            }
        };
        // Only the page (and one more row, to know whether another page follows) is sorted.
        let keep = query.limit + 1;
        if candidates.len() > keep {
            candidates.select_nth_unstable_by(keep - 1, compare);
            candidates.truncate(keep);
        }
        candidates.sort_unstable_by(compare);
        let more = candidates.len() > query.limit;
        candidates.truncate(query.limit);
        let rows: Vec<ListRow> = candidates
            .into_iter()
            .map(|(position, slot, sources)| {
                let repository = self.repositories[slot as usize]
                    .as_ref()
                    .expect("candidate slots are occupied");
                ListRow {
                    id: repository.id,
                    space: self.spaces[&repository.space_id].clone(),
                    repository: repository.name.to_string(),
                    sources,
                    tag_count: repository.tag_count,
                    latest_tag: repository.latest_tag.as_deref().map(str::to_string),
                    pushed_at: repository.pushed_at,
                    size: repository.size,
                    pulls: repository.pulls,
                    description: repository.description.to_string(),
                    cursor: position.to_cursor(),
                }
            })
            .collect();
        let next = more
            .then(|| rows.last().map(|r| r.cursor.clone()))
            .flatten();
        ListPage { rows, total, next }
    }
}

fn sources(space: &SpaceEntry, workspace: WorkspaceId) -> ListSources {
    list_sources(
        ListedSpace {
            public: space.public,
            registry_owner: space.registry_owner,
            bound: &space.bound,
        },
        workspace,
    )
}

fn space_passes(space: &SpaceEntry, sources: ListSources, query: &ListQuery<'_>) -> bool {
    query.only_space.is_none_or(|id| space.id == id)
        && query.registry.is_none_or(|r| *space.registry_name == *r)
        && query.space.is_none_or(|s| *space.name == *s)
        && query.visibility.is_none_or(|v| match v {
            Visibility::Public => space.public,
            Visibility::Private => !space.public,
        })
        && query.source.is_none_or(|s| match s {
            SourceFilter::Public => sources.public,
            SourceFilter::Bound => sources.bound,
            SourceFilter::WorkspaceRegistry => sources.workspace_registry,
        })
}

/// A row's place in the order: the sort value (0 for name order), then the name, then the id,
/// so that every row has a distinct position and keyset paging never skips or repeats one.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortPosition<'a> {
    value: i64,
    name: &'a str,
    id: i64,
}

impl SortPosition<'_> {
    fn cmp_cursor(&self, cursor: &ListCursor) -> Ordering {
        (self.value, self.name, self.id).cmp(&(cursor.value, cursor.name.as_str(), cursor.id))
    }

    fn to_cursor(&self) -> ListCursor {
        ListCursor {
            value: self.value,
            name: self.name.to_string(),
            id: self.id,
        }
    }
}

/// Missing values (never pushed, no size) sort below every real one.
fn sort_value(repository: &RepositoryEntry, key: SortKey) -> i64 {
    match key {
        SortKey::Name => 0,
        SortKey::PushedAt => repository.pushed_at.unwrap_or(i64::MIN),
        SortKey::Pulls => repository.pulls,
        SortKey::Size => repository.size.unwrap_or(i64::MIN),
        SortKey::Severity => repository.severity_rank.map_or(-1, i64::from),
    }
}

/// A stored severity rank as the index keeps it; out-of-range ranks count as none.
fn severity_rank(stored: Option<i64>) -> Option<u8> {
    stored
        .and_then(|rank| u8::try_from(rank).ok())
        .filter(|rank| *rank <= 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids `matching` marks are exactly those a plain search of every name finds, for
    /// needles that match no name, one, names far apart, names side by side, names longer
    /// than most and several places in one name; shorter than a trigram, of one trigram, of
    /// rare trigrams (checked one by one) and of common ones (scanned).
    #[test]
    fn tag_name_search_marks_exactly_the_matching_names() {
        let mut names = TagNames::default();
        for i in 0..3000 {
            let name = match i % 7 {
                0 => format!("sha-{i:04x}a0a0"),
                1 => format!("2.{}.{}", i % 13, i % 5),
                2 if i % 5 == 0 => format!("Ë-3.{i}"),
                2 => format!("Alpine-3.{i}"),
                3 => format!("release-candidate-{i}-for-the-long-name-test"),
                _ => format!("v{i}"),
            };
            names.id(&name);
        }
        for needle in [
            "a0",
            "alpine",
            "2.1",
            "v29",
            "sha-0001a0a0",
            "zzz",
            "v",
            "a0a0",
            "-the-long-",
            "2.1.",
            "0a0",
            "-fo",
            "e-3",
            "ë-3",
            "a0a0a0a0",
            "for-the-long-name-test",
        ] {
            let bits = names.matching(needle);
            let checked_one_by_one = names.trigram_candidates(needle.as_bytes()).is_some();
            let expected_path = match needle {
                "a0" | "v" | "a0a0" | "alpine" | "-the-long-" => false,
                "sha-0001a0a0" | "2.1" | "zzz" | "ë-3" => true,
                _ => checked_one_by_one,
            };
            assert_eq!(
                checked_one_by_one, expected_path,
                "how {needle} is searched"
            );
            for (id, name) in names.names.iter().enumerate() {
                let marked = bits[id / 64] & (1 << (id % 64)) != 0;
                assert_eq!(
                    marked,
                    name.to_lowercase().contains(needle),
                    "{needle} in {name}"
                );
            }
        }
    }

    /// Removals leave holes and squeezes, and through both every remaining repository keeps
    /// exactly its own tag ids; a removed or unknown slot is never listed.
    #[test]
    fn a_space_keeps_each_repositorys_tags_through_removals() {
        let mut space = SpaceRepositories::default();
        let tags_of = |slot: u32| (0..slot % 4).map(move |t| slot * 10 + t);
        let mut expected: Vec<(u32, Vec<u32>)> = Vec::new();
        for slot in 0..12 {
            space.push(slot, tags_of(slot));
            expected.push((slot, tags_of(slot).collect()));
        }
        for slot in [3, 0, 11, 7, 7, 40, 1, 2, 5, 4, 9, 6, 10, 8] {
            space.remove(slot);
            expected.retain(|(s, _)| *s != slot);
            let listed: Vec<(u32, Vec<u32>)> =
                space.iter().map(|(s, tags)| (s, tags.to_vec())).collect();
            assert_eq!(listed, expected, "after removing {slot}");
            assert!(space.holes <= space.slots.len() - space.holes + 1);
            if slot == 8 {
                assert!(space.is_empty());
            }
        }
        space.push(12, tags_of(12));
        assert_eq!(
            space
                .iter()
                .map(|(s, t)| (s, t.to_vec()))
                .collect::<Vec<_>>(),
            vec![(12, tags_of(12).collect::<Vec<_>>())]
        );
    }

    fn space(id: i64, name: &str, public: bool, owner: Option<i64>) -> CatalogSpace {
        CatalogSpace {
            id,
            name: name.into(),
            public,
            registry_id: if owner.is_some() { 2 } else { 1 },
            registry_name: if owner.is_some() {
                "own".into()
            } else {
                "hosted".into()
            },
            registry_kind: "hosted".into(),
            registry_url: String::new(),
            registry_workspace_id: owner,
        }
    }

    fn repository(id: i64, space: i64, name: &str, pulls: i64, tags: &[&str]) -> CatalogRepository {
        CatalogRepository {
            id,
            registry_id: 1,
            space_id: Some(space),
            name: name.into(),
            artifact_count: 1,
            tag_count: tags.len() as i64,
            pulls,
            pushed_at: Some(id * 1000),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        }
    }

    fn index() -> ImageListIndex {
        let mut index = ImageListIndex::default();
        index.set_spaces(
            vec![
                space(1, "library", true, None),
                space(2, "team", false, None),
                space(3, "other", false, None),
                space(4, "mine", false, Some(7)),
            ],
            vec![(2, 7), (1, 7)],
            |_| "berth.example".into(),
        );
        index.upsert(repository(10, 1, "library/alpine", 5, &["3.19", "latest"]));
        index.upsert(repository(11, 2, "team/api", 50, &["v1.0.0", "Latest"]));
        index.upsert(repository(12, 3, "other/secret", 1, &["latest"]));
        index.upsert(repository(13, 4, "mine/tool", 0, &["nightly"]));
        index
    }

    fn query(workspace: i64) -> ListQuery<'static> {
        ListQuery {
            workspace,
            q: None,
            tag: None,
            registry: None,
            space: None,
            only_space: None,
            visibility: None,
            source: None,
            min_severity: None,
            sort: SortKey::Name,
            descending: false,
            after: None,
            limit: 50,
        }
    }

    fn names(page: &ListPage) -> Vec<&str> {
        page.rows.iter().map(|r| r.repository.as_str()).collect()
    }

    #[test]
    fn lists_by_the_rule_with_reasons() {
        let index = index();
        let page = index.list(&query(7));
        assert_eq!(names(&page), ["library/alpine", "mine/tool", "team/api"]);
        assert_eq!(page.total, 3);
        let alpine = &page.rows[0].sources;
        assert!(
            alpine.public && alpine.bound,
            "public and bound: one row, two reasons"
        );
        assert!(page.rows[1].sources.workspace_registry);
        assert_eq!(names(&index.list(&query(8))), ["library/alpine"]);
    }

    #[test]
    fn filters_and_sorts() {
        let index = index();
        let mut q = query(7);
        q.tag = Some("latest");
        assert_eq!(names(&index.list(&q)), ["library/alpine", "team/api"]);
        q.tag = Some("v1.");
        assert_eq!(names(&index.list(&q)), ["team/api"]);
        let mut q = query(7);
        q.q = Some("too");
        assert_eq!(names(&index.list(&q)), ["mine/tool"]);
        let mut q = query(7);
        q.source = Some(SourceFilter::Bound);
        assert_eq!(names(&index.list(&q)), ["library/alpine", "team/api"]);
        q.visibility = Some(Visibility::Public);
        assert_eq!(names(&index.list(&q)), ["library/alpine"]);
        let mut q = query(7);
        q.only_space = Some(2);
        assert_eq!(
            names(&index.list(&q)),
            ["team/api"],
            "a space-limited robot"
        );
        let mut q = query(7);
        q.sort = SortKey::Pulls;
        q.descending = true;
        assert_eq!(
            names(&index.list(&q)),
            ["team/api", "library/alpine", "mine/tool"]
        );
    }

    #[test]
    fn keyset_pages_cover_everything_once() {
        let mut index = index();
        for i in 0..100 {
            index.upsert(repository(
                100 + i,
                1,
                &format!("library/r{:03}", i % 37),
                i % 5,
                &[],
            ));
        }
        for (sort, descending) in [
            (SortKey::Name, false),
            (SortKey::Pulls, true),
            (SortKey::PushedAt, true),
            (SortKey::Size, false),
        ] {
            let mut q = query(8);
            q.sort = sort;
            q.descending = descending;
            q.limit = 7;
            let mut seen = Vec::new();
            loop {
                let page = index.list(&q);
                assert_eq!(page.total, 101);
                seen.extend(page.rows.iter().map(|r| r.id));
                match page.next {
                    Some(cursor) => q.after = Some(cursor),
                    None => break,
                }
            }
            let mut unique = seen.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!((seen.len(), unique.len()), (101, 101), "{sort:?}");
        }
    }

    fn tag(name: &str, pushed_at: i64, digest: &str, platforms: &[(&str, &str)]) -> TagRecord {
        TagRecord {
            name: name.into(),
            digest: digest.into(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: None,
            pushed_at,
            pushed_at_known: true,
            pulled_at: None,
            size: pushed_at * 10,
            platforms: platforms
                .iter()
                .map(|(os, arch)| Platform {
                    os: Some(os.to_string()),
                    architecture: Some(arch.to_string()),
                    variant: None,
                })
                .collect(),
            pushed_by: None,
            pull_count: 0,
        }
    }

    #[test]
    fn recent_tags_answer_the_selector_or_defer_to_the_store() {
        let sha = format!("sha256:{}", "ab".repeat(32));
        let mut index = index();
        let mut long = repository(20, 1, "library/long", 0, &["v3", "v2", "v1", "Old-1"]);
        long.recent_tags = vec![
            tag("v3", 30, &sha, &[("linux", "amd64"), ("linux", "arm64")]),
            tag("v2", 20, "sha512:not-bytes", &[("linux", "amd64")]),
            tag("v1", 10, &sha, &[("linux", "amd64"), ("linux", "arm64")]),
        ];
        index.upsert(long);
        let mut short = repository(21, 1, "library/short", 0, &["Latest"]);
        short.recent_tags = vec![tag("Latest", 5, &sha, &[])];
        index.upsert(short);

        let Some(RecentTags::Known(tags)) = index.recent_tags(20, None, 3) else {
            panic!("three held tags answer an unfiltered selection");
        };
        let names: Vec<&str> = tags.iter().map(|t| &*t.name).collect();
        assert_eq!(names, ["v3", "v2", "v1"]);
        assert_eq!(
            tags[0].digest, sha,
            "sha256 digests round-trip through bytes"
        );
        assert_eq!(tags[1].digest, "sha512:not-bytes");
        assert_eq!(tags[0].platforms.len(), 2);
        assert!(
            Arc::ptr_eq(&tags[0].platforms, &tags[2].platforms),
            "lists are shared"
        );
        assert_eq!((tags[1].pushed_at, tags[1].size), (Some(20), 200));

        let Some(RecentTags::Known(tags)) = index.recent_tags(20, Some("v"), 3) else {
            panic!("all three held tags match");
        };
        assert_eq!(tags.len(), 3);
        assert!(
            matches!(
                index.recent_tags(20, Some("old"), 3),
                Some(RecentTags::AskStore)
            ),
            "an older match the index does not hold"
        );
        let Some(RecentTags::Known(tags)) = index.recent_tags(21, Some("latest"), 3) else {
            panic!("a repository whose every tag is held answers any filter");
        };
        assert_eq!(tags[0].name.as_ref(), "Latest", "names keep their case");
        assert!(
            matches!(index.recent_tags(21, Some("nope"), 3), Some(RecentTags::Known(t)) if t.is_empty())
        );
        assert!(index.recent_tags(999, None, 3).is_none());
    }

    #[test]
    fn removing_and_rebinding() {
        let mut index = index();
        index.remove(11);
        assert_eq!(
            names(&index.list(&query(7))),
            ["library/alpine", "mine/tool"]
        );
        index.set_spaces(
            vec![
                space(1, "library", true, None),
                space(3, "other", false, None),
            ],
            vec![(3, 7)],
            |_| "h".into(),
        );
        assert_eq!(
            names(&index.list(&query(7))),
            ["library/alpine", "other/secret"]
        );
        assert_eq!(index.repository_count(), 2, "mine/tool left with its space");
    }
}
