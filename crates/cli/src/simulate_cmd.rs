//! `tongban simulate hall`: window planning (SPEC C4). Runs the discrete-event simulation of
//! `tongban_domain::halls::simulation` over a generated arrival profile (the built-in demo
//! profile, or a TOML file) or over the tickets recorded at a hall, for a range of comprehensive
//! window counts and the specialised layout of the same size, and prints p50/p90 waits and the
//! windows' utilisation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::civil::Date;
use tongban_domain::calendar::shanghai_date;
use tongban_domain::halls::queue::TicketStatus;
use tongban_domain::halls::simulation::{
    Arrival, ArrivalProfile, Demand, PlanRequest, PlanRow, ServiceTime, SplitMix64,
    fewest_windows_for, plan, plan_days,
};
use tongban_domain::keys::HallKey;

use crate::config::{Settings, StorageArgs};

#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// How many comprehensive windows keep the 90th-percentile wait under a target, and how
    /// comprehensive windows compare with specialised ones.
    Hall(HallArgs),
}

#[derive(Debug, Args)]
pub struct HallArgs {
    /// An arrival profile (TOML: opens_hour, per_hour = [...], [[demand]] kind, share,
    /// service = { distribution = "log_normal", mean, cv }); the built-in demo profile without it.
    #[arg(long, conflicts_with = "recorded")]
    pub profile: Option<PathBuf>,
    /// Replay the tickets recorded at this hall (needs --from and --to) instead of a profile.
    #[arg(long, requires_all = ["from", "to"])]
    pub recorded: Option<String>,
    /// First recorded day, YYYY-MM-DD.
    #[arg(long)]
    pub from: Option<Date>,
    /// Last recorded day, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<Date>,
    /// Fewest windows to try.
    #[arg(long, default_value_t = 4)]
    pub min_windows: usize,
    /// Most windows to try.
    #[arg(long, default_value_t = 20)]
    pub max_windows: usize,
    /// Generated days per layout (the same days for every layout).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The 90th-percentile wait to keep under, in minutes.
    #[arg(long, default_value_t = 15.0)]
    pub target_p90: f64,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(command: SimulateCommand, settings: Settings) -> anyhow::Result<()> {
    let SimulateCommand::Hall(args) = command;
    if args.min_windows == 0 || args.min_windows > args.max_windows {
        anyhow::bail!("--min-windows must be at least 1 and at most --max-windows");
    }
    let windows = args.min_windows..=args.max_windows;
    let bar = ProgressBar::new((windows.clone().count() * 2) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} layouts {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let (source, rows) = match &args.recorded {
        Some(hall) => {
            let settings = settings
                .with_flags(&args.storage)
                .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
            let store = tongban_store::open(&settings.storage()).await?;
            let hall = HallKey::parse(hall).context("--recorded names a hall key")?;
            let (from, to) = match (args.from, args.to) {
                (Some(from), Some(to)) => (from, to),
                _ => anyhow::bail!("--recorded needs --from and --to"),
            };
            let tickets = store.halls.tickets(&hall, from, to).await?;
            let (profile, days) = recorded_days(&tickets, 9)?;
            let rows = plan_days(&profile, &days, windows, &mut progress)?;
            (
                format!(
                    "{} recorded days of {hall} ({} tickets)",
                    days.len(),
                    tickets.len()
                ),
                rows,
            )
        }
        None => {
            let profile = match &args.profile {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    toml::from_str::<ArrivalProfile>(&text)
                        .with_context(|| format!("{} is not an arrival profile", path.display()))?
                }
                None => ArrivalProfile::demo(),
            };
            let request = PlanRequest {
                windows,
                days: args.days,
            };
            let mut rng = SplitMix64::seeded(args.seed);
            let rows = plan(&profile, &request, &mut rng, &mut progress)?;
            (
                format!(
                    "{} generated days, {:.0} arrivals a day, offered load {:.1} windows",
                    args.days,
                    profile.per_hour.iter().sum::<f64>(),
                    profile.offered_load()
                ),
                rows,
            )
        }
    };
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("{source}");
    print!("{}", table(&rows));
    match fewest_windows_for(&rows, args.target_p90) {
        Some(count) => println!(
            "fewest comprehensive windows with p90 wait <= {} min: {count}",
            args.target_p90
        ),
        None => println!(
            "no comprehensive window count tried keeps the p90 wait <= {} min",
            args.target_p90
        ),
    }
    Ok(())
}

/// The plan as a text table.
pub fn table(rows: &[PlanRow]) -> String {
    let mut out = String::from(
        "windows  layout         served   mean wait  p50 wait  p90 wait  utilisation\n",
    );
    for row in rows {
        out.push_str(&format!(
            "{:>7}  {:<13} {:>7} {:>10.1} {:>9.1} {:>9.1} {:>11.1}%\n",
            row.windows,
            row.layout,
            row.served,
            row.mean_wait,
            row.p50_wait,
            row.p90_wait,
            row.utilisation * 100.0
        ));
    }
    out
}

/// Recorded tickets as days of arrivals: minutes from `opens_hour` (China time), the skill
/// group as the kind, the measured service time. Skipped and unfinished tickets are left out
/// (they have no service time); the profile's demand (shares, mean service) is measured too.
pub fn recorded_days(
    tickets: &[tongban_domain::halls::queue::Ticket],
    opens_hour: i8,
) -> anyhow::Result<(ArrivalProfile, Vec<Vec<Arrival>>)> {
    let mut kinds: Vec<String> = Vec::new();
    let mut by_day: BTreeMap<Date, Vec<Arrival>> = BTreeMap::new();
    let mut service_sums: Vec<(f64, u32)> = Vec::new();
    let mut latest_hour = 8.0_f64;
    for ticket in tickets {
        let (TicketStatus::Done, Some(service)) = (ticket.status, ticket.service_time()) else {
            continue;
        };
        let kind_name = ticket.skill.to_string();
        let kind = match kinds.iter().position(|k| *k == kind_name) {
            Some(index) => index,
            None => {
                kinds.push(kind_name);
                service_sums.push((0.0, 0));
                kinds.len() - 1
            }
        };
        let day = shanghai_date(ticket.taken_at);
        let opening = tongban_domain::halls::appointments::china_instant(
            day,
            jiff::civil::time(opens_hour, 0, 0, 0),
        );
        let at = ticket.taken_at.duration_since(opening).as_secs_f64() / 60.0;
        let minutes = service.as_secs_f64() / 60.0;
        service_sums[kind].0 += minutes;
        service_sums[kind].1 += 1;
        latest_hour = latest_hour.max((at / 60.0).ceil());
        by_day.entry(day).or_default().push(Arrival {
            at: at.max(0.0),
            kind,
            service: minutes,
        });
    }
    if kinds.is_empty() {
        anyhow::bail!("no served ticket was recorded in that period");
    }
    let total: u32 = service_sums.iter().map(|(_, n)| n).sum();
    let demand = kinds
        .iter()
        .zip(&service_sums)
        .map(|(kind, (sum, n))| Demand {
            kind: kind.clone(),
            share: f64::from(*n) / f64::from(total),
            service: ServiceTime::Fixed {
                minutes: (sum / f64::from(*n)).max(0.1),
            },
        })
        .collect();
    let days: Vec<Vec<Arrival>> = by_day
        .into_values()
        .map(|mut day| {
            day.sort_by(|a, b| a.at.total_cmp(&b.at));
            day
        })
        .collect();
    let profile = ArrivalProfile {
        opens_hour: u8::try_from(opens_hour).unwrap_or(9),
        per_hour: vec![0.0; latest_hour.clamp(1.0, 24.0) as usize],
        demand,
    };
    Ok((profile, days))
}
