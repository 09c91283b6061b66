"""Pure, synchronous online-learning code: no Kafka or Faust imports below this package."""
