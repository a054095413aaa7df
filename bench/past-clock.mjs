// Preloaded (`node --import`) by bench/lib.ts into the process that fills an aged data set: its clock
// runs BENCH_CLOCK_OFFSET_DAYS days behind, so the events it appends were received that long ago.
const offset = -Number(process.env.BENCH_CLOCK_OFFSET_DAYS ?? 0) * 86_400_000;
const RealDate = Date;
class PastDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = PastDate;
