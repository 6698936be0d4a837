// Osprey's @kestra-io/libs module for Node scripts.
//
// It offers what scripts written for Kestra require from Kestra's Node
// package: Kestra.outputs, Kestra.counter, Kestra.timer and Kestra.logger.
// Each call prints one ::{...}:: line on stdout, the protocol Osprey's
// script tasks read, so nothing is installed and nothing leaves the process.
'use strict';

function send(message) {
  process.stdout.write('::' + JSON.stringify(message) + '::\n');
}

function metric(name, type, value, tags) {
  send({ metrics: [{ name: name, type: type, value: value, tags: tags || {} }] });
}

const Kestra = {
  // outputs merges values (an object) into the task run's outputs.vars.
  outputs(values) { send({ outputs: values }); },
  // counter adds value to the counter called name.
  counter(name, value, tags) { metric(name, 'counter', value, tags); },
  // timer records a duration in seconds; given a function, times a call.
  timer(name, duration, tags) {
    if (typeof duration === 'function') {
      const start = process.hrtime.bigint();
      duration();
      duration = Number(process.hrtime.bigint() - start) / 1e9;
    }
    metric(name, 'timer', duration, tags);
  },
  // logger returns an object whose methods become the task run's log lines.
  logger() {
    const at = (level) => (...parts) => send({ logs: [{ level: level, message: parts.join(' ') }] });
    return { trace: at('TRACE'), debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
  },
};

module.exports = Kestra;
module.exports.Kestra = Kestra;
module.exports.default = Kestra;
