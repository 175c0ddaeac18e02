// The CloudEvents Java SDK as a partner would use it: reads every record of the topics named with the SDK's Kafka
// binding (io.cloudevents.kafka.CloudEventDeserializer, structured or binary mode by the record's headers) and its
// JSON format, and prints one JSON line per record: what the SDK made of it, or the SDK's error.
//
// Usage: java -cp <classpath> ReadTopics <bootstrap servers> <topic>...
// Compiled and run by tests/integration/test_cloudevents_judges.py; nothing of ours is on its classpath.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

public final class ReadTopics {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        List<String> topics = Arrays.asList(args).subList(1, args.length);
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        CloudEventDeserializer cloudEvents = new CloudEventDeserializer();
        cloudEvents.configure(Map.of(), false);
        try (KafkaConsumer<String, byte[]> consumer =
                 new KafkaConsumer<>(properties, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                    partitions.add(new TopicPartition(topic, info.partition()));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!atEnd(consumer, ends) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    System.out.println(JSON.writeValueAsString(judge(cloudEvents, record)));
                }
            }
            if (!atEnd(consumer, ends)) {
                System.err.println("did not reach the end of every partition in time");
                System.exit(2);
            }
        }
    }

    private static boolean atEnd(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static ObjectNode judge(CloudEventDeserializer cloudEvents, ConsumerRecord<String, byte[]> record) {
        ObjectNode line = JSON.createObjectNode();
        line.put("topic", record.topic());
        line.put("partition", record.partition());
        line.put("offset", record.offset());
        line.put("key", record.key());
        try {
            CloudEvent event = cloudEvents.deserialize(record.topic(), record.headers(), record.value());
            line.put("ok", true);
            line.put("specversion", event.getSpecVersion().toString());
            line.put("id", event.getId());
            line.put("type", event.getType());
            line.put("source", event.getSource().toString());
            line.put("subject", event.getSubject());
            line.put("time", event.getTime() == null ? null : event.getTime().toString());
            line.put("datacontenttype", event.getDataContentType());
            line.put("dataschema", event.getDataSchema() == null ? null : event.getDataSchema().toString());
            ObjectNode extensions = line.putObject("extensions");
            for (String name : event.getExtensionNames()) {
                Object value = event.getExtension(name);
                ObjectNode extension = extensions.putObject(name);
                extension.put("value", String.valueOf(value));
                extension.put("javatype", value == null ? null : value.getClass().getSimpleName());
            }
            byte[] data = event.getData() == null ? null : event.getData().toBytes();
            JsonNode parsed = data == null ? null : JSON.readTree(new String(data, StandardCharsets.UTF_8));
            line.set("data", parsed);
        } catch (Exception error) {
            line.put("ok", false);
            line.put("error", error.getClass().getName() + ": " + error.getMessage());
        }
        return line;
    }
}
